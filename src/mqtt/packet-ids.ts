/**
 * Hands out MQTT packet identifiers (1..65535), skipping every id still in use — in flight,
 * awaiting SUBACK, or stored in a durable queue from an earlier run — so ids never collide.
 */
export class PacketIdAllocator {
  private next = 1;

  constructor(private readonly inUse: (id: number) => boolean) {}

  allocate(): number {
    for (let tries = 0; tries < 65535; tries++) {
      const id = this.next;
      this.next = id === 65535 ? 1 : id + 1;
      if (!this.inUse(id)) return id;
    }
    throw new Error('all 65535 MQTT packet ids are in use');
  }
}
