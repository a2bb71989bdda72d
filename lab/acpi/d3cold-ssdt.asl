/*
 * An SSDT that gives the lab's device a D3cold path (topology `root-d3cold`, lab/lib/qemu.mjs):
 * QEMU's q35 ACPI tables have no power resources and no _PS0/_PR0/_PR3 anywhere (checked with
 * QEMU 7.2 and 10.0, root bus and root port, with and without acpi-pci-hotplug-with-bridge-support),
 * so Linux never picks D3cold for an emulated device. This table adds a power resource and lists
 * it as the device's _PR0 and _PR3: ACPI then sees a device that can be powered off (D3cold
 * valid), and the PCI core's runtime suspend chooses D3cold when d3cold_allowed is 1.
 * Its _OFF cuts nothing: QEMU's device keeps its state, so this checks vfio-pci's and the PCI
 * core's D3cold decisions, not what a real power cut loses. Built with iasl at lab run time.
 * \_SB.PCI0.S18 is the ACPI companion QEMU's DSDT gives the function at 00:03.0.
 */
DefinitionBlock ("", "SSDT", 2, "VFIOLB", "D3COLD", 0x00000001)
{
    External (\_SB.PCI0.S18, DeviceObj)

    Scope (\_SB)
    {
        PowerResource (PRD3, 0x00, 0x0000)
        {
            Name (ONST, One)
            Method (_STA, 0, NotSerialized)
            {
                Return (ONST)
            }
            Method (_ON, 0, NotSerialized)
            {
                ONST = One
            }
            Method (_OFF, 0, NotSerialized)
            {
                ONST = Zero
            }
        }
    }

    Scope (\_SB.PCI0.S18)
    {
        Name (_PR0, Package (0x01) { \_SB.PRD3 })
        Name (_PR3, Package (0x01) { \_SB.PRD3 })
    }
}
