/** JSON-safe number: NaN, Infinity and -Infinity as strings 'NaN' / 'Inf' / '-Inf'. */
export type SnapNum = number | 'NaN' | 'Inf' | '-Inf';
export function snapNum(x: number): SnapNum { return Number.isNaN(x) ? 'NaN' : x === Infinity ? 'Inf' : x === -Infinity ? '-Inf' : x; }
export function unsnapNum(x: SnapNum): number { return x === 'NaN' ? NaN : x === 'Inf' ? Infinity : x === '-Inf' ? -Infinity : x; }
