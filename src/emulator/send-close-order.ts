/**
 * A real module answers a send (OK and `+CIPSEND: l,n,n`, or `Recv n bytes` and SEND OK) before
 * it reports the peer closing the link: a host that sends its last bytes (MQTT DISCONNECT) and
 * stops at the close URC leaves no answer behind. Both families hold a close back with this.
 */
export class SendCloseOrder {
  private sending = false;
  private held = false;

  /** A send runs (from its prompt until its answer is out). */
  begin(): void {
    this.sending = true;
  }

  /** The peer closed: true when the close must wait for the send's answer (it is held). */
  hold(): boolean {
    if (this.sending) this.held = true;
    return this.sending;
  }

  /** The send is answered: a close held meanwhile is reported now. */
  done(reportClose: () => void): void {
    this.sending = false;
    if (!this.held) return;
    this.held = false;
    reportClose();
  }

  /** Power-on or reboot: no send, nothing held. */
  reset(): void {
    this.sending = false;
    this.held = false;
  }
}
