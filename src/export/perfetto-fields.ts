// Field numbers of the subset of Perfetto's trace schema the export writes. They are facts of the
// wire format, read from google/perfetto protos/perfetto/trace/: trace.proto, trace_packet.proto,
// track_event/track_event.proto, track_event/track_descriptor.proto,
// track_event/debug_annotation.proto, interned_data/interned_data.proto. Names follow the protos.

/** message Trace */
export const Trace = { packet: 1 } as const;

/** message TracePacket */
export const TracePacket = {
  timestamp: 8, // uint64, ns, trace clock (BOOTTIME unless told otherwise)
  trusted_packet_sequence_id: 10, // uint32
  track_event: 11,
  interned_data: 12,
  sequence_flags: 13, // uint32, SequenceFlags
  track_descriptor: 60,
  first_packet_on_sequence: 87, // bool
} as const;

/** TracePacket.SequenceFlags */
export const SEQ_INCREMENTAL_STATE_CLEARED = 1;
export const SEQ_NEEDS_INCREMENTAL_STATE = 2;

/** message TrackDescriptor */
export const TrackDescriptor = { uuid: 1, name: 2, parent_uuid: 5 } as const;

/** message TrackEvent */
export const TrackEvent = {
  category_iids: 3, // repeated uint64, interned EventCategory
  debug_annotations: 4,
  type: 9,
  name_iid: 10, // interned EventName
  track_uuid: 11,
} as const;

/** TrackEvent.Type */
export const TYPE_SLICE_BEGIN = 1;
export const TYPE_SLICE_END = 2;
export const TYPE_INSTANT = 3;

/** message DebugAnnotation */
export const DebugAnnotation = { name_iid: 1, uint_value: 3, string_value: 6 } as const;

/** message InternedData; its entries (EventCategory, EventName, DebugAnnotationName) are all {iid = 1, name = 2}. */
export const InternedData = { event_categories: 1, event_names: 2, debug_annotation_names: 3 } as const;
export const Interned = { iid: 1, name: 2 } as const;
