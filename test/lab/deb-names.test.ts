// lab/lib/kernels.mjs finds a package it downloaded before by the exact name apt-get gives the
// .deb, so a second lab run does not fetch it again. apt-get url-encodes an epoch's ':' as %3a.
import { describe, expect, test } from 'vitest';
// @ts-expect-error: a plain .mjs module of the lab, no type declarations
import { debFileNames } from '../../lab/lib/kernels.mjs';

describe('debFileNames (the lab download cache)', () => {
  test('a version without an epoch: the arch and the _all name', () => {
    expect(debFileNames({ name: 'linux-image-6.12.57+deb13-amd64-unsigned', version: '6.12.57-1' })).toEqual([
      'linux-image-6.12.57+deb13-amd64-unsigned_6.12.57-1_amd64.deb',
      'linux-image-6.12.57+deb13-amd64-unsigned_6.12.57-1_all.deb',
    ]);
  });
  test('an epoch is kept, its colon url-encoded as apt-get writes it', () => {
    expect(debFileNames({ name: 'busybox-static', version: '1:1.37.0-6+b9' }, 'arm64')[0]).toBe('busybox-static_1%3a1.37.0-6+b9_arm64.deb');
  });
});
