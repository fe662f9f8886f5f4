/**
 * Kolmogorov–Smirnov distributions, ported from SciPy so the p-values match it:
 *
 * - `kstwoSf(d, n)`: survival function of the two-sided one-sample KS statistic D_n
 *   (`scipy.stats.kstwo.sf(d, n)`), following Simard & L'Ecuyer (2011) as
 *   `scipy/stats/_ksstats.py` does: Ruben–Gambino closed forms at the ends, the Durbin matrix
 *   algorithm (Marsaglia–Tsang–Wang) or the Pomeranz recursion for small n, Pelz–Good's
 *   asymptotic series for large n and small d, and 2 * Smirnov's one-sided tail where the
 *   intersection term is negligible (directly as a tail sum, so tiny p-values stay accurate).
 * - `smirnovSf(n, d)`: the one-sided statistic D_n^+ (`scipy.special.smirnov`), Birnbaum–Tingey sum.
 * - `kolmogorovSf(x)`: the limiting distribution of sqrt(n) D_n (`scipy.special.kolmogorov`,
 *   i.e. `scipy.stats.kstwobign.sf`).
 *
 * SciPy's Smirnov code uses double-double arithmetic; here the terms are summed in log space in
 * plain doubles, which keeps a relative error around n * 1e-16 (< 1e-9 up to n = 1e6) —
 * far inside the 1e-6 agreement the tests ask for.
 */
import { ldexp } from './special.js';

const E128 = 128;
const EP128 = 2 ** 128;
const EM128 = 2 ** -128;
const SQRT2PI = Math.sqrt(2 * Math.PI);
const LOG_2PI = Math.log(2 * Math.PI);
const MIN_LOG = -708;
const SQRT3 = Math.sqrt(3);
const PI_SQUARED = Math.PI ** 2;
const PI_FOUR = Math.PI ** 4;
const PI_SIX = Math.PI ** 6;
/** xsf/cephes MINLOG: log of the smallest subnormal double (2^-1075). */
const CEPHES_MINLOG = -7.451332191019412076235e2;
/** Above this n SciPy's smirnov() uses an approximation instead of the sum. */
const SMIRNOV_MAX_COMPUTE_N = 1_000_000;

// Stirling series coefficients B_{2j}/(2j)/(2j-1), j = 8..1 (highest power first).
const STIRLING_COEFFS = [
  -2.955065359477124183e-2, 6.4102564102564102564e-3, -1.9175269175269175269e-3,
  8.4175084175084175084e-4, -5.952380952380952381e-4, 7.9365079365079365079e-4,
  -2.7777777777777777778e-3, 8.3333333333333333333e-2,
];

function clip01(p: number): number {
  if (Number.isNaN(p)) return p;
  return p < 0 ? 0 : Math.min(p, 1);
}

function select(cdfProb: number, sfProb: number, cdf: boolean): number {
  return clip01(cdf ? cdfProb : sfProb);
}

/** log(n! / n^n) via Stirling, with n log n removed up front. */
function logNFactorialDivNPowN(n: number): number {
  const rn = 1 / n;
  let poly = 0;
  const y = rn / n;
  for (const c of STIRLING_COEFFS) poly = poly * y + c;
  return Math.log(n) / 2 - n + LOG_2PI / 2 + rn * poly;
}

/** m x m matrix product (row-major). */
function matmul(a: Float64Array, b: Float64Array, m: number): Float64Array {
  // Indices are in range: a, b and c are all m * m and i, j, k < m.
  const c = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    const ci = i * m;
    for (let k = 0; k < m; k++) {
      const aik = a[ci + k]!;
      if (aik === 0) continue;
      const bk = k * m;
      for (let j = 0; j < m; j++) c[ci + j] = c[ci + j]! + aik * b[bk + j]!;
    }
  }
  return c;
}

/** Pr(D_n <= d) by the Durbin matrix algorithm in the Marsaglia–Tsang–Wang form. */
function kolmognDMTW(n: number, d: number): number {
  if (d >= 1) return 1;
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;
  // Indices are in range: v and w have m entries, H and Hpwr m * m, kk = (k-1)(m+1) < m * m,
  // and every loop below keeps its row/column indices in [0, m).

  const v = new Float64Array(m);
  const w = new Float64Array(m);
  let fac = 1;
  for (let j = 1; j <= m; j++) {
    v[j - 1] = 1 - h ** j;
    w[j - 1] = fac;
    fac /= j; // may underflow; harmless
    v[j - 1] = v[j - 1]! * fac;
  }
  const tt = Math.max(2 * h - 1, 0) ** m - 2 * h ** m;
  v[m - 1] = (1 + tt) * fac;

  let H: Float64Array = new Float64Array(m * m);
  for (let i = 1; i < m; i++) {
    for (let r = i - 1; r < m; r++) H[r * m + i] = w[r - (i - 1)]!;
  }
  for (let r = 0; r < m; r++) H[r * m] = v[r]!;
  for (let c = 0; c < m; c++) H[(m - 1) * m + c] = v[m - 1 - c]!;

  let Hpwr: Float64Array = new Float64Array(m * m);
  for (let i = 0; i < m; i++) Hpwr[i * m + i] = 1;
  let nn = n;
  let expnt = 0;
  let Hexpnt = 0;
  const kk = (k - 1) * m + (k - 1);
  while (nn > 0) {
    if (nn % 2) {
      Hpwr = matmul(Hpwr, H, m);
      expnt += Hexpnt;
    }
    H = matmul(H, H, m);
    Hexpnt *= 2;
    if (Math.abs(H[kk]!) > EP128) {
      for (let i = 0; i < H.length; i++) H[i] = H[i]! / EP128;
      Hexpnt += E128;
    }
    nn = Math.floor(nn / 2);
  }
  let p = Hpwr[kk]!;
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n;
    if (Math.abs(p) < EM128) {
      p *= EP128;
      expnt -= E128;
    }
  }
  if (expnt !== 0) p = ldexp(p, expnt);
  return clip01(p);
}

function pomeranzJ1J2(i: number, n: number, ll: number, ceilf: number, roundf: number): [number, number] {
  let j1: number;
  let j2: number;
  if (i === 0) {
    j1 = -ll - ceilf - 1;
    j2 = ll + ceilf - 1;
  } else {
    const ip1div2 = Math.floor((i + 1) / 2);
    const ip1mod2 = (i + 1) % 2;
    if (ip1mod2 === 0) {
      // i is odd
      if (ip1div2 === n + 1) {
        j1 = n - ll - ceilf - 1;
        j2 = n + ll + ceilf - 1;
      } else {
        j1 = ip1div2 - 1 - ll - roundf - 1;
        j2 = ip1div2 + ll - 1 + ceilf - 1;
      }
    } else {
      j1 = ip1div2 - 1 - ll - 1;
      j2 = ip1div2 + ll + roundf - 1;
    }
  }
  return [Math.max(j1 + 2, 0), Math.min(j2, n)];
}

/** Pr(D_n <= x) by the Pomeranz (1974) recursion. */
function kolmognPomeranz(n: number, x: number): number {
  const t = n * x;
  const ll = Math.floor(t);
  const f = t - ll;
  const g = Math.min(f, 1 - f);
  const ceilf = f > 0 ? 1 : 0;
  const roundf = f > 0.5 ? 1 : 0;
  const npwrs = 2 * (ll + 1);
  // Indices are in range: the power tables and V0/V1 have npwrs entries; the convolution bounds
  // (aLen, bLen, convLen) are clipped to npwrs as in SciPy, and n - V1s indexes the final row.
  const gpower = new Float64Array(npwrs);
  const twogpower = new Float64Array(npwrs);
  const onem2gpower = new Float64Array(npwrs);
  gpower[0] = 1;
  twogpower[0] = 1;
  onem2gpower[0] = 1;
  let expnt = 0;
  const gOverN = g / n;
  const twoGOverN = (2 * g) / n;
  const oneMinusTwoGOverN = (1 - 2 * g) / n;
  for (let m = 1; m < npwrs; m++) {
    gpower[m] = (gpower[m - 1]! * gOverN) / m;
    twogpower[m] = (twogpower[m - 1]! * twoGOverN) / m;
    onem2gpower[m] = (onem2gpower[m - 1]! * oneMinusTwoGOverN) / m;
  }

  let V0 = new Float64Array(npwrs);
  let V1 = new Float64Array(npwrs);
  V1[0] = 1;
  let V0s = 0;
  let V1s = 0;
  let [j1, j2] = pomeranzJ1J2(0, n, ll, ceilf, roundf);
  for (let i = 1; i < 2 * n + 2; i++) {
    const k1 = j1;
    [V0, V1] = [V1, V0];
    [V0s, V1s] = [V1s, V0s];
    V1.fill(0);
    [j1, j2] = pomeranzJ1J2(i, n, ll, ceilf, roundf);
    const pwrs = i === 1 || i === 2 * n + 1 ? gpower : i % 2 ? twogpower : onem2gpower;
    const ln2 = j2 - k1 + 1;
    if (ln2 > 0) {
      // conv = np.convolve(V0[k1 - V0s : k1 - V0s + ln2], pwrs[:ln2]); only the entries
      // conv[j1 - k1 .. j2 - k1] are needed: conv[c] = sum_a V0[off + a] * pwrs[c - a].
      const off = k1 - V0s;
      const aLen = Math.min(ln2, npwrs - off);
      const bLen = Math.min(ln2, npwrs);
      const convStart = j1 - k1;
      const convLen = j2 - j1 + 1;
      let vmax = 0;
      for (let q = 0; q < convLen; q++) {
        const c = convStart + q;
        let s = 0;
        const aLo = Math.max(0, c - bLen + 1);
        const aHi = Math.min(c, aLen - 1);
        for (let a = aLo; a <= aHi; a++) s += V0[off + a]! * pwrs[c - a]!;
        V1[q] = s;
        if (s > vmax) vmax = s;
      }
      if (vmax > 0 && vmax < EM128) {
        for (let q = 0; q < npwrs; q++) V1[q] = V1[q]! * EP128;
        expnt -= E128;
      }
      V1s = V0s + j1 - k1;
    }
  }
  let ans = V1[n - V1s]!;
  for (let m = 1; m <= n; m++) {
    if (Math.abs(ans) > EP128) {
      ans *= EM128;
      expnt += E128;
    }
    ans *= m;
  }
  if (expnt !== 0) ans = ldexp(ans, expnt);
  return clip01(ans);
}

/** Pelz–Good approximation to Pr(D_n <= x). */
function kolmognPelzGood(n: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const z = Math.sqrt(n) * x;
  const zsquared = z ** 2;
  const zthree = z ** 3;
  const zfour = z ** 4;
  const zsix = z ** 6;
  const qlog = -PI_SQUARED / 8 / zsquared;
  if (qlog < MIN_LOG) return 0;
  let q = Math.exp(qlog);

  const k1a = -zsquared;
  const k1b = PI_SQUARED / 4;
  const k2a = 6 * zsix + 2 * zfour;
  const k2b = ((2 * zfour - 5 * zsquared) * PI_SQUARED) / 4;
  const k2c = (PI_FOUR * (1 - 2 * zsquared)) / 16;
  const k3d = (PI_SIX * (5 - 30 * zsquared)) / 64;
  const k3c = (PI_FOUR * (-60 * zsquared + 212 * zfour)) / 16;
  const k3b = (PI_SQUARED * (135 * zfour - 96 * zsix)) / 4;
  const k3a = -30 * zsix - 90 * z ** 8;

  // K, coeffs and denoms all have 4 entries, indexed by i < 4.
  const K = [0, 0, 0, 0];
  const maxk = Math.ceil((16 * z) / Math.PI);
  for (let k = maxk; k > 0; k--) {
    const m = 2 * k - 1;
    const msquared = m ** 2;
    const mfour = m ** 4;
    const msix = m ** 6;
    const qpower = q ** (8 * k);
    const coeffs = [
      1,
      k1a + k1b * msquared,
      k2a + k2b * msquared + k2c * mfour,
      k3a + k3b * msquared + k3c * mfour + k3d * msix,
    ];
    for (let i = 0; i < 4; i++) K[i] = K[i]! * qpower + coeffs[i]!;
  }
  const denoms = [z, 6 * zfour, 72 * z ** 7, 6480 * z ** 10];
  for (let i = 0; i < 4; i++) K[i] = (K[i]! * q * SQRT2PI) / denoms[i]!;

  q = Math.exp(-PI_SQUARED / 2 / zsquared);
  const sqrt3z = SQRT3 * z;
  let k2extra = 0;
  let k3extra = 0;
  for (let k = maxk; k > 0; k--) {
    const ksq = k * k;
    const qp = q ** ksq;
    const kspi = Math.PI * k;
    k2extra += ksq * qp;
    k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * ksq * qp;
  }
  K[2] = K[2]! + (k2extra * PI_SQUARED * SQRT2PI) / (-36 * zthree);
  K[3] = K[3]! + (k3extra * PI_SQUARED * SQRT2PI) / (216 * zsix);
  let total = 0;
  for (let i = 0; i < 4; i++) total += K[i]! / n ** (i / 2);
  return total;
}

/**
 * One-sided KS survival function P(D_n^+ >= d) (`scipy.special.smirnov(n, d)`), by the
 * Birnbaum–Tingey sum  d * sum_{v=0}^{floor(n(1-d))} C(n,v) (d + v/n)^(v-1) (1 - d - v/n)^(n-v),
 * every term positive (no cancellation), evaluated in log space.
 */
export function smirnovSf(n: number, d: number): number {
  if (!(n > 0 && Number.isInteger(n) && d >= 0 && d <= 1)) return NaN;
  if (n === 1) return 1 - d;
  if (d === 0) return 1;
  if (d === 1) return 0;
  const nx = n * d;
  const nxfl = Math.floor(nx);
  const alpha = nx - nxfl;
  let n1mxfl = n - nxfl - (alpha === 0 ? 0 : 1);
  if (alpha === 0) n1mxfl -= 1;

  if (nxfl === 0 || (nxfl === 1 && alpha === 0)) {
    // d <= 1/n: P = 1 - d (1 + d)^(n-1)
    const cdf = d * (1 + d) ** (n - 1);
    return clip01(1 - cdf);
  }
  if (-2 * n * d * d < CEPHES_MINLOG) return 0;
  if (nxfl >= n - 1) return clip01((1 - d) ** n);
  if (n > SMIRNOV_MAX_COMPUTE_N) {
    const logp = -((6 * n * d + 1) ** 2) / 18 / n;
    // p ~ exp(-(6nd+1)^2 / 18n) (SciPy's shortcut for very large n)
    if (logp < -Math.LN2) return clip01(Math.exp(logp));
    const cdf = -Math.expm1(logp);
    return clip01(1 - cdf);
  }
  const nTerms = n1mxfl + 1;
  const vmid = Math.floor(n / 2);
  // Streaming log-sum-exp: the sum is S * exp(logRef) with S >= 1, so neither the binomial
  // coefficients (overflow) nor the powers (underflow) are ever formed on their own.
  let logRef = n * Math.log1p(-d) - Math.log(d); // v = 0 term: (1 - d)^n / d
  let S = 1;
  // log C(n, v), accumulated with Kahan compensation: it grows to O(n) and plain summation
  // would lose ~sqrt(n) * n * 1e-16 (a few 1e-9 at n = 3e5).
  let logC = Math.log(n); // log C(n, 1)
  let logCComp = 0;
  for (let v = 1; v < nTerms; v++) {
    const up = d + v / n; // d + v/n
    const down = (n - v) / n - d; // 1 - d - v/n
    const logTerm = logC + (v - 1) * Math.log(up) + (n - v) * Math.log(down);
    let rel: number; // this term relative to exp(logRef)
    if (logTerm > logRef) {
      S = S * Math.exp(logRef - logTerm) + 1;
      logRef = logTerm;
      rel = 1;
    } else {
      rel = Math.exp(logTerm - logRef);
      S += rel;
    }
    // Stop once the remaining terms cannot change the sum (SciPy's criterion).
    if (rel !== 0) {
      if (4 * (nTerms - v) * rel < Number.EPSILON * S && v !== nTerms - 1) break;
    } else if (v > vmid) {
      break;
    }
    const y = Math.log((n - v) / (v + 1)) - logCComp;
    const t = logC + y;
    logCComp = t - logC - y;
    logC = t;
  }
  return clip01(Math.exp(logRef + Math.log(d * S)));
}

/**
 * Survival function of the limiting Kolmogorov distribution, P(K >= x) with K = lim sqrt(n) D_n
 * (`scipy.special.kolmogorov(x)` = `scipy.stats.kstwobign.sf(x)`).
 */
export function kolmogorovSf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x <= 0) return 1;
  if (x <= Math.PI / Math.sqrt((708 + 38) * 8)) return 1;
  if (x <= 0.82) {
    const w = SQRT2PI / x;
    const logu8 = -(Math.PI * Math.PI) / (x * x);
    const u = Math.exp(logu8 / 8);
    let P: number;
    if (u === 0) {
      P = Math.exp(logu8 / 8 + Math.log(w));
    } else {
      const u8 = Math.exp(logu8);
      const u8cub = u8 ** 3;
      P = 1;
      P = 1 + u8cub * P;
      P = 1 + u8 * u8 * P;
      P = 1 + u8 * P;
      P = w * u * P;
    }
    return clip01(1 - P);
  }
  const v = Math.exp(-2 * x * x);
  const vsq = v * v;
  const v3 = v ** 3;
  let P = 1;
  P = 1 - v3 * v3 * v * P;
  P = 1 - v3 * vsq * P;
  P = 1 - v3 * P;
  return clip01(2 * v * P);
}

/** CDF (cdf = true) or SF of the two-sided one-sample KS statistic D_n; SciPy's `_kolmogn`. */
function kolmogn(n: number, x: number, cdf: boolean): number {
  if (Number.isNaN(n) || Number.isNaN(x)) return NaN;
  if (!Number.isInteger(n) || n <= 0) return NaN;
  if (x >= 1) return select(1, 0, cdf);
  if (x <= 0) return select(0, 1, cdf);
  const t = n * x;
  if (t <= 1) {
    // Ruben–Gambino: 1/(2n) <= x <= 1/n
    if (t <= 0.5) return select(0, 1, cdf);
    let prob: number;
    if (n <= 140) {
      prob = 1;
      const c = 2 * t - 1;
      for (let i = 1; i <= n; i++) prob *= i * (1 / n) * c;
    } else {
      prob = Math.exp(logNFactorialDivNPowN(n) + n * Math.log(2 * t - 1));
    }
    return select(prob, 1 - prob, cdf);
  }
  if (t >= n - 1) {
    const prob = 2 * (1 - x) ** n;
    return select(1 - prob, prob, cdf);
  }
  if (x >= 0.5) {
    const prob = 2 * smirnovSf(n, x);
    return select(1 - prob, prob, cdf);
  }
  const nxsquared = t * x;
  if (n <= 140) {
    if (nxsquared <= 0.754693) {
      const prob = kolmognDMTW(n, x);
      return select(prob, 1 - prob, cdf);
    }
    if (nxsquared <= 4) {
      const prob = kolmognPomeranz(n, x);
      return select(prob, 1 - prob, cdf);
    }
    const prob = 2 * smirnovSf(n, x);
    return select(1 - prob, prob, cdf);
  }
  if (!cdf) {
    if (nxsquared >= 370) return 0;
    if (nxsquared >= 2.2) return clip01(2 * smirnovSf(n, x));
  }
  let cdfprob: number;
  if (nxsquared >= 18) cdfprob = 1;
  else if (n <= 100000 && n * x ** 1.5 <= 1.4) cdfprob = kolmognDMTW(n, x);
  else cdfprob = kolmognPelzGood(n, x);
  return select(cdfprob, 1 - cdfprob, cdf);
}

/**
 * P(D_n >= d) for the two-sided one-sample KS statistic with sample size n
 * (`scipy.stats.kstwo.sf(d, n)`). n must be a positive integer.
 */
export function kstwoSf(d: number, n: number): number {
  return kolmogn(n, d, false);
}

/** P(D_n <= d) (`scipy.stats.kstwo.cdf(d, n)`). */
export function kstwoCdf(d: number, n: number): number {
  return kolmogn(n, d, true);
}
