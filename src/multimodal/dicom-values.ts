/** Typed reads of DICOM attribute values from a dicom-parser DataSet (any VR, any byte order). */
import type { DataSet, Element } from 'dicom-parser';
import { T, VR } from './dicom-tags.js';

export function vrOf(el: Element): string | undefined {
  return el.vr ?? VR[el.tag];
}

function rawBytes(ds: DataSet, el: Element): Uint8Array {
  return ds.byteArray.subarray(el.dataOffset, el.dataOffset + el.length);
}

/** The value as text, decoded per Specific Character Set (UTF-8 when ISO_IR 192, else Latin-1), trimmed. */
export function text(ds: DataSet, tag: string): string | undefined {
  const el = ds.elements[tag];
  if (!el || el.length === 0 || el.dataOffset + el.length > ds.byteArray.length) return undefined;
  const charset = ds.string(T.SpecificCharacterSet) ?? '';
  const decoder = new TextDecoder(/ISO_IR 192/.test(charset) ? 'utf-8' : 'latin1');
  const value = decoder.decode(rawBytes(ds, el)).replace(/\0+$/, '').trim();
  return value === '' ? undefined : value;
}

/** All numeric values of an element: decimal/integer strings, or binary numbers by VR. */
export function numbers(ds: DataSet, tag: string): number[] {
  const el = ds.elements[tag];
  if (!el || el.length === 0 || el.dataOffset + el.length > ds.byteArray.length) return [];
  const vr = vrOf(el);
  const width: Record<string, [number, (i: number) => number | undefined]> = {
    US: [2, (i) => ds.uint16(tag, i)],
    SS: [2, (i) => ds.int16(tag, i)],
    UL: [4, (i) => ds.uint32(tag, i)],
    SL: [4, (i) => ds.int32(tag, i)],
    FL: [4, (i) => ds.float(tag, i)],
    FD: [8, (i) => ds.double(tag, i)],
  };
  const binary = vr ? width[vr] : undefined;
  if (binary) {
    const out: number[] = [];
    for (let i = 0; i < Math.floor(el.length / binary[0]) && i < 4096; i++) out.push(binary[1](i)!);
    return out;
  }
  const s = text(ds, tag);
  if (!s) return [];
  return s
    .split('\\')
    .map((v) => Number.parseFloat(v.trim()))
    .filter((v) => Number.isFinite(v));
}

export function num(ds: DataSet, tag: string): number | undefined {
  return numbers(ds, tag)[0];
}

/** US attributes of the pixel module are sometimes written with the wrong VR; read them as 16-bit either way. */
export function us(ds: DataSet, tag: string): number | undefined {
  const el = ds.elements[tag];
  if (!el || el.length < 2) return undefined;
  const vr = vrOf(el);
  if (vr === 'IS' || vr === 'DS') return num(ds, tag);
  return ds.uint16(tag);
}
