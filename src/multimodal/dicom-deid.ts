/**
 * De-identification of DICOM attributes per PS3.15 Annex E: the Basic Application Level
 * Confidentiality Profile with the Retain Longitudinal Temporal Information with Modified Dates
 * option (dates shifted by a per-patient offset; or removed) and the Retain Patient
 * Characteristics option reduced to sex and an age band. UIDs are remapped with a keyed hash, so
 * the same study always maps to the same new UID; the patient ID becomes a salted pseudonym so that
 * monitoring can follow populations without ever seeing who. Attributes the table does not list
 * still get a safety net: private tags removed, person names emptied, UIDs remapped, dates shifted.
 */
import { createHmac } from 'node:crypto';
import type { DataSet, Element } from 'dicom-parser';
import { BASIC_PROFILE, isCurveOrOverlay } from './deid-profile.js';
import { T } from './dicom-tags.js';
import { text, vrOf } from './dicom-values.js';

export interface DeidOptions {
  /** secret key for pseudonyms, UID remapping and date offsets (DEID_SALT) */
  salt: string;
  /** shift dates by a per-patient offset (keeps intervals), or remove them */
  dates: 'shift' | 'remove';
}

export type DeidAction = 'kept' | 'removed' | 'emptied' | 'replaced' | 'uid_remapped' | 'date_shifted';

export interface DeidReport {
  profile: string;
  options: string[];
  patient_identity_removed: true;
  /** how many attributes (top level and inside sequences) each action touched */
  counts: Record<Exclude<DeidAction, 'kept'>, number> & { private_removed: number };
  /** attribute names (never values) per action, top level */
  attributes: Partial<Record<Exclude<DeidAction, 'kept'>, string[]>>;
}

export interface DeidentifiedAttributes {
  /** top-level values after de-identification, for retained or replaced attributes only */
  values: Map<string, string>;
  /** salted pseudonym of Patient ID (+ Issuer), or null without a Patient ID */
  patientKey: string | null;
  patientSex: string | null;
  patientAgeBand: string | null;
  report: DeidReport;
}

export const PROFILE_NAME = 'DICOM PS3.15 Basic Application Level Confidentiality Profile';
/** Code Sequence values of PS3.16 CID 7050 for what was applied, written into De-identification Method. */
export const DEID_METHOD = 'Vitals: PS3.15 Basic Profile (113100), Retain Longitudinal Temporal Information with Modified Dates (113107), Retain Patient Characteristics (113108)';

const NAMES = new Map<string, string>(Object.entries(T).map(([k, v]) => [v, k]));
const nameOf = (tag: string) => NAMES.get(tag) ?? `(${tag.slice(1, 5)},${tag.slice(5)})`.toUpperCase();

function hmac(salt: string, purpose: string, value: string): Buffer {
  return createHmac('sha256', salt).update(`${purpose}\0${value}`).digest();
}

/** A UUID-derived UID (PS3.5 B.2): 2.25 followed by 128 bits of the keyed hash, as a decimal. */
export function remapUid(salt: string, uid: string): string {
  return `2.25.${BigInt(`0x${hmac(salt, 'uid', uid).subarray(0, 16).toString('hex')}`).toString()}`;
}

export function pseudonym(salt: string, patientId: string, issuer = ''): string {
  return `PSN-${hmac(salt, 'patient', `${issuer}\0${patientId}`).subarray(0, 8).toString('hex').toUpperCase()}`;
}

/** Days to move dates back by, 1..730, fixed for one patient (so intervals between studies survive). */
export function dateShiftDays(salt: string, subject: string): number {
  return 1 + (hmac(salt, 'date-shift', subject).readUInt32BE(0) % 730);
}

export function shiftDa(da: string, days: number): string | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})/.exec(da);
  if (!m) return undefined;
  const d = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!));
  if (Number.isNaN(d.getTime()) || d.getUTCMonth() !== +m[2]! - 1) return undefined;
  d.setUTCDate(d.getUTCDate() - days);
  return d.toISOString().slice(0, 10).replace(/-/g, '') + da.slice(8);
}

/** Patient's Age (AS, e.g. "045Y", "006M") or birth date at the study date → a decade band; 90 and over pooled. */
export function ageBand(age: string | undefined, birthDate?: string, studyDate?: string): string | null {
  let years: number | undefined;
  const m = age ? /^(\d{3})([DWMY])$/.exec(age.trim()) : null;
  if (m) years = +m[1]! / { D: 365.25, W: 52.18, M: 12, Y: 1 }[m[2] as 'D' | 'W' | 'M' | 'Y'];
  else if (birthDate && studyDate && /^\d{8}$/.test(birthDate) && /^\d{8}$/.test(studyDate)) {
    const b = +birthDate.slice(0, 4),
      s = +studyDate.slice(0, 4);
    years = s - b - (studyDate.slice(4) < birthDate.slice(4) ? 1 : 0);
  }
  if (years === undefined || years < 0 || years > 150) return null;
  if (years >= 90) return '90+';
  const lo = Math.floor(years / 10) * 10;
  return `${lo}-${lo + 9}`;
}

const KEEP_CHARACTERISTICS = new Set([T.PatientSex, 'x00101020', 'x00101030']); // sex, size, weight
const STANDARD_UID = /^1\.2\.840\.10008\./;

export function actionFor(tag: string, el: Element, set: DataSet, opts: DeidOptions): { action: DeidAction; private?: boolean } {
  const group = Number.parseInt(tag.slice(1, 5), 16);
  if (group % 2 === 1) return { action: 'removed', private: true };
  if (isCurveOrOverlay(tag)) return { action: 'removed' };
  if (tag === T.PixelData || tag === T.FloatPixelData || tag === T.DoubleFloatPixelData) return { action: 'kept' };
  if (tag === T.PatientID || tag === T.PatientName) return { action: 'replaced' };
  if (tag === T.PatientAge) return { action: 'replaced' }; // becomes an age band
  if (tag === T.PatientBirthDate) return { action: 'emptied' };
  if (KEEP_CHARACTERISTICS.has(tag)) return { action: 'kept' };
  const vr = vrOf(el);
  const profile = BASIC_PROFILE.get(tag);
  const isDate = vr === 'DA' || vr === 'DT';
  if (isDate && opts.dates === 'shift' && el.length > 0) return { action: 'date_shifted' };
  if (vr === 'TM' && opts.dates === 'shift' && profile && profile !== 'X') return { action: 'kept' }; // whole-day shifts leave times as they were
  if (profile === 'U') return { action: 'uid_remapped' };
  if (profile === 'X') return { action: 'removed' };
  if (profile === 'Z') return { action: 'emptied' };
  if (profile === 'D') return { action: vr === 'SQ' ? 'removed' : 'replaced' };
  // Not in the table: the safety net by value representation.
  if (vr === 'PN') return { action: 'emptied' };
  if (isDate) return { action: 'emptied' };
  if (vr === 'UI') return { action: STANDARD_UID.test(text(set, tag) ?? '') ? 'kept' : 'uid_remapped' }; // SOP classes, transfer syntaxes
  return { action: 'kept' };
}

/** The per-patient parts of de-identification: the pseudonym, the date offset and the age band. */
export function patientContext(ds: DataSet, opts: DeidOptions): { patientKey: string | null; days: number; band: string | null } {
  const patientId = text(ds, T.PatientID);
  const issuer = text(ds, T.IssuerOfPatientID) ?? '';
  const patientKey = patientId ? pseudonym(opts.salt, patientId, issuer) : null;
  const shiftSubject = patientId ? `${issuer}\0${patientId}` : (text(ds, T.StudyInstanceUID) ?? 'no-subject');
  const days = dateShiftDays(opts.salt, shiftSubject);
  const band = ageBand(text(ds, T.PatientAge), text(ds, T.PatientBirthDate), text(ds, T.StudyDate));
  return { patientKey, days, band };
}

export function deidentifyDicom(ds: DataSet, opts: DeidOptions): DeidentifiedAttributes {
  const { patientKey, days, band } = patientContext(ds, opts);
  const sex = text(ds, T.PatientSex)?.toUpperCase() ?? null;

  const counts = { removed: 0, emptied: 0, replaced: 0, uid_remapped: 0, date_shifted: 0, private_removed: 0 };
  const attributes: DeidReport['attributes'] = {};
  const values = new Map<string, string>();

  const visit = (set: DataSet, top: boolean) => {
    for (const [tag, el] of Object.entries(set.elements)) {
      if (tag.startsWith('xfffe')) continue; // item delimiters
      const { action, private: isPrivate } = actionFor(tag, el, set, opts);
      if (action !== 'kept') {
        counts[action]++;
        if (isPrivate) counts.private_removed++;
        if (top && !isPrivate) (attributes[action] ??= []).push(nameOf(tag));
      }
      if (action === 'kept' && el.items) for (const item of el.items) if (item.dataSet) visit(item.dataSet, false);
      if (!top || el.items) continue;
      const value = el.length > 0 && tag !== T.PixelData ? text(set, tag) : undefined;
      if (value === undefined && action !== 'replaced') continue;
      switch (action) {
        case 'kept':
          values.set(tag, value!);
          break;
        case 'uid_remapped':
          if (value) values.set(tag, remapUid(opts.salt, value));
          break;
        case 'date_shifted': {
          const shifted = value ? shiftDa(value, days) : undefined;
          if (shifted) values.set(tag, shifted);
          break;
        }
        case 'replaced':
          if (tag === T.PatientID && patientKey) values.set(tag, patientKey);
          else if (tag === T.PatientName) values.set(tag, patientKey ?? 'ANONYMIZED');
          else if (tag === T.PatientAge) {
            if (band) values.set(tag, band);
          } else values.set(tag, 'ANONYMIZED');
          break;
        default:
          break; // removed or emptied: no value survives
      }
    }
  };
  visit(ds, true);
  values.set(T.PatientIdentityRemoved, 'YES');
  values.set(T.DeidentificationMethod, DEID_METHOD);

  return {
    values,
    patientKey,
    patientSex: sex === 'M' || sex === 'F' || sex === 'O' ? sex : null,
    patientAgeBand: band,
    report: {
      profile: PROFILE_NAME,
      options: [
        opts.dates === 'shift' ? 'Retain Longitudinal Temporal Information with Modified Dates Option (per-patient offset, not disclosed)' : 'dates removed',
        'Retain Patient Characteristics Option (sex; age as a 10-year band, 90+ pooled)',
        'patient ID replaced by a salted pseudonym',
      ],
      patient_identity_removed: true,
      counts,
      attributes,
    },
  };
}
