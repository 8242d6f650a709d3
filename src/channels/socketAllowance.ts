import type { Duplex } from 'node:stream';

/**
 * How many websockets each client address holds open, capped per address.
 *
 * A place is taken for the connection an upgrade arrives on and given back when that connection
 * closes, whatever ended it: the socket closing after a conversation, or the handshake being
 * refused (a bad key, a POST with an Upgrade header), where no websocket ever opens and so no
 * websocket 'close' would ever give the place back. Counting the connection, not the websocket,
 * means a refused handshake costs nothing once its connection is gone.
 */
export class SocketAllowance {
  private readonly openByAddress = new Map<string, number>();

  /** @param perAddress open sockets one address may hold; 0 = no cap. */
  constructor(private readonly perAddress: number) {}

  /** Takes a place for `connection` if `address` has one left; it is given back when `connection` closes. */
  tryHold(address: string, connection: Duplex): boolean {
    // Already gone (the client gave up): its 'close' has passed, so it must not be counted.
    if (connection.closed) return true;
    const open = this.openFrom(address);
    if (this.perAddress > 0 && open >= this.perAddress) return false;
    this.openByAddress.set(address, open + 1);
    connection.once('close', () => this.release(address));
    return true;
  }

  /** Connections `address` holds now (handshakes under way included). */
  openFrom(address: string): number {
    return this.openByAddress.get(address) ?? 0;
  }

  private release(address: string): void {
    const open = this.openFrom(address) - 1;
    if (open > 0) this.openByAddress.set(address, open);
    else this.openByAddress.delete(address);
  }
}
