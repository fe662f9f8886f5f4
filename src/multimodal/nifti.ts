/**
 * NIfTI-1 and NIfTI-2 volumes (`.nii`, `.nii.gz`): header by nifti-reader-js, gunzip by node:zlib
 * with a cap on the output (a small .nii.gz can inflate to gigabytes), voxel values scaled by
 * scl_slope/scl_inter, spacing in millimetres, and the orientation as axis codes computed from the
 * affine nibabel would use (sform when set, else qform, else pixdim).
 */
import { gunzipSync } from 'node:zlib';
import * as nifti from 'nifti-reader-js';
import { VitalsError } from '../errors.js';
import type { StoredArray } from './dicom-pixels.js';

export interface NiftiLimits {
  /** cap on the decompressed file and on the voxel data */
  maxDecodedBytes: number;
}

export interface NiftiVolume {
  version: 1 | 2;
  /** voxel counts per axis (dim[1..dim[0]]) */
  shape: number[];
  datatype: string;
  littleEndian: boolean;
  /** voxel values as stored, in native byte order, x fastest */
  data: StoredArray;
  /** channels per voxel (3 for RGB24) */
  components: number;
  scale: { slope: number; intercept: number };
  /** voxel size in mm (spatial axes) */
  spacingMm: number[];
  /** voxel-to-world (RAS+) affine, 4×4 */
  affine: number[][];
  /** nibabel-style axis codes, e.g. "RAS" or "LPS" */
  orientation: string;
  qformCode: number;
  sformCode: number;
}

const DATATYPES: Record<number, { name: string; ctor: new (b: ArrayBuffer, o: number, n: number) => StoredArray; bytes: number; components?: number }> = {
  2: { name: 'uint8', ctor: Uint8Array, bytes: 1 },
  4: { name: 'int16', ctor: Int16Array, bytes: 2 },
  8: { name: 'int32', ctor: Int32Array, bytes: 4 },
  16: { name: 'float32', ctor: Float32Array, bytes: 4 },
  64: { name: 'float64', ctor: Float64Array, bytes: 8 },
  128: { name: 'rgb24', ctor: Uint8Array, bytes: 1, components: 3 },
  256: { name: 'int8', ctor: Int8Array, bytes: 1 },
  512: { name: 'uint16', ctor: Uint16Array, bytes: 2 },
  768: { name: 'uint32', ctor: Uint32Array, bytes: 4 },
  2304: { name: 'rgba32', ctor: Uint8Array, bytes: 1, components: 4 },
};

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length > 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** NIfTI-1 (348-byte header) or NIfTI-2 (540) single-file magic, in either byte order. */
export function looksLikeNifti(bytes: Uint8Array): boolean {
  if (bytes.length < 348) return false;
  const magic1 = String.fromCharCode(...bytes.subarray(344, 347));
  const magic2 = String.fromCharCode(...bytes.subarray(4, 7));
  return magic1 === 'n+1' || magic1 === 'ni1' || magic2 === 'n+2' || magic2 === 'ni2';
}

/** gunzip with a ceiling on the output, so a gzip bomb costs at most the cap. */
export function gunzipBounded(bytes: Uint8Array, maxBytes: number): Uint8Array {
  try {
    return gunzipSync(bytes, { maxOutputLength: maxBytes });
  } catch (err) {
    const e = err as { code?: string };
    if (err instanceof RangeError || e.code === 'ERR_BUFFER_TOO_LARGE') {
      throw new VitalsError('PAYLOAD_TOO_LARGE', `the gzip stream inflates to more than ${Math.round(maxBytes / 1024 ** 2)} MB`);
    }
    throw new VitalsError('INVALID_IMAGE', `could not gunzip the file (${(err as Error).message}); is it truncated?`);
  }
}

function product(xs: number[]): number {
  return xs.reduce((a, b) => a * b, 1);
}

export function readNifti(input: Uint8Array, limits: NiftiLimits): NiftiVolume {
  const bytes = isGzip(input) ? gunzipBounded(input, limits.maxDecodedBytes + 1024 * 1024) : input;
  if (!looksLikeNifti(bytes)) throw new VitalsError('INVALID_IMAGE', 'not a NIfTI file: no n+1/n+2 magic in the header');
  // An ArrayBuffer that starts at the file's first byte (nifti-reader-js reads offsets from 0).
  const ab = (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes.buffer : new Uint8Array(bytes).buffer) as ArrayBuffer; // a copy, even of a Buffer
  let header: nifti.NIFTI1 | nifti.NIFTI2;
  try {
    header = nifti.readHeader(ab);
  } catch (err) {
    throw new VitalsError('INVALID_IMAGE', `could not read the NIfTI header (${(err as Error).message})`);
  }
  if (!header) throw new VitalsError('INVALID_IMAGE', 'could not read the NIfTI header');
  const version = header instanceof nifti.NIFTI2 ? 2 : 1;
  const magic = version === 2 ? String.fromCharCode(...bytes.subarray(4, 7)) : String.fromCharCode(...bytes.subarray(344, 347));
  if (magic === 'ni1' || magic === 'ni2') throw new VitalsError('UNSUPPORTED_MEDIA_TYPE', 'this is a .hdr/.img pair header; send a single-file .nii or .nii.gz');
  const ndim = header.dims[0]!;
  if (!Number.isInteger(ndim) || ndim < 1 || ndim > 7) throw new VitalsError('UNPROCESSABLE_IMAGE', `dim[0] must be 1..7 (got ${ndim})`);
  const shape = header.dims.slice(1, ndim + 1).map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 1)) throw new VitalsError('UNPROCESSABLE_IMAGE', `dimensions must be positive integers (got ${shape.join('×')})`);
  const type = DATATYPES[header.datatypeCode];
  if (!type) throw new VitalsError('UNSUPPORTED_MEDIA_TYPE', `NIfTI datatype ${header.datatypeCode} is not supported (integers up to 32 bits, float32/64, RGB)`);
  const components = type.components ?? 1;
  const samples = product(shape) * components;
  const needed = samples * type.bytes;
  if (needed > limits.maxDecodedBytes) {
    throw new VitalsError(
      'PAYLOAD_TOO_LARGE',
      `the volume declares ${shape.join('×')} ${type.name} voxels = ${(needed / 1024 ** 2).toFixed(0)} MB; the limit is ${(limits.maxDecodedBytes / 1024 ** 2).toFixed(0)} MB`,
    );
  }
  const offset = Math.max(Number(header.vox_offset), version === 2 ? 544 : 352);
  if (offset + needed > bytes.length) {
    throw new VitalsError('UNPROCESSABLE_IMAGE', `the header declares ${needed} bytes of voxels at offset ${offset} but the file has ${bytes.length - offset}; it is truncated`);
  }
  const data = nativeArray(ab, offset, samples, type, header.littleEndian);
  const slope = header.scl_slope;
  const apply = components === 1 && Number.isFinite(slope) && slope !== 0;
  const spatialUnit = header.xyzt_units & 0x07; // 1 m, 2 mm, 3 µm
  const toMm = spatialUnit === 1 ? 1000 : spatialUnit === 3 ? 0.001 : 1;
  const affine = bestAffine(header, bytes, version);
  return {
    version,
    shape,
    datatype: type.name,
    littleEndian: header.littleEndian,
    data,
    components,
    scale: { slope: apply ? slope : 1, intercept: apply && Number.isFinite(header.scl_inter) ? header.scl_inter : 0 },
    spacingMm: header.pixDims.slice(1, Math.min(ndim, 3) + 1).map((d) => Math.abs(d) * toMm),
    affine,
    orientation: axisCodes(affine),
    qformCode: header.qform_code,
    sformCode: header.sform_code,
  };
}

function nativeArray(ab: ArrayBuffer, offset: number, samples: number, type: (typeof DATATYPES)[number], littleEndian: boolean): StoredArray {
  const size = type.bytes;
  const native = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  if (size === 1 || littleEndian === native) {
    if (offset % size === 0) return new type.ctor(ab, offset, samples);
    return new type.ctor(ab.slice(offset, offset + samples * size), 0, samples);
  }
  const src = new Uint8Array(ab, offset, samples * size);
  const out = new Uint8Array(samples * size);
  for (let i = 0; i < out.length; i += size) for (let b = 0; b < size; b++) out[i + b] = src[i + size - 1 - b]!;
  return new type.ctor(out.buffer, 0, samples);
}

/** nibabel's choice: sform when sform_code > 0, else qform when qform_code > 0, else pixdim scaling. */
function bestAffine(h: nifti.NIFTI1 | nifti.NIFTI2, bytes: Uint8Array, version: 1 | 2): number[][] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (h.sform_code > 0) {
    const rows: number[][] = [];
    for (let r = 0; r < 3; r++) {
      const row: number[] = [];
      for (let c = 0; c < 4; c++) {
        row.push(version === 2 ? dv.getFloat64(400 + (r * 4 + c) * 8, h.littleEndian) : dv.getFloat32(280 + (r * 4 + c) * 4, h.littleEndian));
      }
      rows.push(row);
    }
    return [...rows, [0, 0, 0, 1]];
  }
  const p = h.pixDims;
  if (h.qform_code > 0) {
    const b = h.quatern_b,
      c = h.quatern_c,
      d = h.quatern_d;
    const a = Math.sqrt(Math.max(0, 1 - (b * b + c * c + d * d)));
    const qfac = p[0] === -1 ? -1 : 1;
    const R = [
      [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
      [2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)],
      [2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - b * b - c * c],
    ];
    const z = [h.qoffset_x, h.qoffset_y, h.qoffset_z];
    return [...R.map((row, i) => [row[0]! * p[1]!, row[1]! * p[2]!, row[2]! * p[3]! * qfac, z[i]!]), [0, 0, 0, 1]];
  }
  return [
    [p[1] ?? 1, 0, 0, 0],
    [0, p[2] ?? 1, 0, 0],
    [0, 0, p[3] ?? 1, 0],
    [0, 0, 0, 1],
  ];
}

/** For each voxel axis, the world axis it runs along most and its direction (RAS+ world). */
export function axisCodes(affine: number[][]): string {
  const labels = [
    ['L', 'R'],
    ['P', 'A'],
    ['I', 'S'],
  ];
  const used = new Set<number>();
  let out = '';
  for (let j = 0; j < 3; j++) {
    let best = -1;
    let bestAbs = -1;
    for (let i = 0; i < 3; i++) {
      const v = Math.abs(affine[i]![j]!);
      if (!used.has(i) && v > bestAbs) {
        best = i;
        bestAbs = v;
      }
    }
    used.add(best);
    out += labels[best]![affine[best]![j]! >= 0 ? 1 : 0];
  }
  return out;
}
