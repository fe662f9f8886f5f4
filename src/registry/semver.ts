/** Semantic versions as the registry uses them: MAJOR.MINOR.PATCH, optional leading "v". */
export interface SemVer {
  major: number;
  minor: number;
  patch: number;
}

const pattern = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;

export function parseSemver(text: string): SemVer | undefined {
  const m = pattern.exec(text.trim());
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) };
}

export const formatSemver = (v: SemVer) => `${v.major}.${v.minor}.${v.patch}`;

export type Bump = 'major' | 'minor' | 'patch';

export function bumpSemver(v: SemVer | undefined, bump: Bump): SemVer {
  if (!v) return { major: 1, minor: 0, patch: 0 };
  if (bump === 'major') return { major: v.major + 1, minor: 0, patch: 0 };
  if (bump === 'minor') return { major: v.major, minor: v.minor + 1, patch: 0 };
  return { major: v.major, minor: v.minor, patch: v.patch + 1 };
}

export const compareSemver = (a: SemVer, b: SemVer) => a.major - b.major || a.minor - b.minor || a.patch - b.patch;
