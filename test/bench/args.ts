// Command-line options of the benchmark scripts: `--name value`.

/** The value after `--name`, or `dflt`. */
export function arg(name: string, dflt: string): string {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : dflt;
}

/** A numeric `--name`, held within [min, max] so a typo cannot start an unbounded run. */
export function boundedArg(name: string, dflt: number, min: number, max: number): number {
    return Math.min(max, Math.max(min, Number(arg(name, String(dflt)))));
}

/** The median of `xs` (the mean of the two middle values for an even count). */
export function median(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
