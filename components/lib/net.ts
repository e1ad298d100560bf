// IPv4 arithmetic for config validation. Pure, no dependencies.

/** Parses a dotted-quad IPv4 address into an unsigned 32-bit number, or undefined if invalid. */
export function parseIPv4(text: string): number | undefined {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
    if (!m) return undefined;
    const octets = m.slice(1).map(Number);
    if (octets.some((o, i) => o > 255 || (m[i + 1].length > 1 && m[i + 1].startsWith("0")))) return undefined;
    return ((octets[0] << 24) >>> 0) + (octets[1] << 16) + (octets[2] << 8) + octets[3];
}

/** Formats an unsigned 32-bit number as a dotted-quad IPv4 address. */
export function formatIPv4(n: number): string {
    return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join(".");
}

/** The network mask for a prefix length (0..32). */
export function maskOf(prefix: number): number {
    return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** True when `a` and `b` lie in the same `prefix`-bit network. */
export function sameSubnet(a: number, b: number, prefix: number): boolean {
    const mask = maskOf(prefix);
    return ((a & mask) >>> 0) === ((b & mask) >>> 0);
}

/** The broadcast address of the network holding `address`. */
export function broadcastOf(address: number, prefix: number): number {
    return ((address | ~maskOf(prefix)) >>> 0);
}

/** The network address (CIDR text) holding `address`. */
export function networkOf(address: number, prefix: number): string {
    return `${formatIPv4((address & maskOf(prefix)) >>> 0)}/${prefix}`;
}
