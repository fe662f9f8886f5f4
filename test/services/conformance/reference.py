"""
The reference side of the imaging conformance test (test/services/imaging-conformance.test.ts):
what pydicom 3 and nibabel 5 read from the files they ship, as one JSON document on stdout.

DICOM corpus: pydicom's own test files (pydicom/data/test_files in the wheel) and the pydicom-data
package (data_store/data), read from the installed packages directly: pydicom's data manager is
never asked, so nothing is downloaded. NIfTI corpus: nibabel/tests/data/*.nii[.gz].

For each DICOM file: transfer syntax, whether pydicom decodes it (and why not), rows, columns,
frames, channels, modality, statistics of all frames after the modality transform, the 8-bit
rendering of frame 1 that a model sees, and the PS3.15 identifying values that must never come
back from Vitals. Where pydicom's apply_modality_lut stops short of the standard, this adds what
the standard says, named where it is done: RT Dose's Dose Grid Scaling (PS3.3 C.8.8.3) and the
per-frame Pixel Value Transformation of enhanced multi-frame objects (PS3.3 C.7.6.16.2.9).

    python reference.py            # prints {"versions": ..., "dicom": [...], "nifti": [...]}
"""

import io
import json
import os
import sys
import warnings

import data_store
import nibabel as nib
import numpy as np
import pydicom
from pydicom.pixels import apply_color_lut, apply_modality_lut
from pydicom.uid import ImplicitVRLittleEndian

warnings.simplefilter("ignore")

PYDICOM_DIR = os.path.join(os.path.dirname(pydicom.__file__), "data", "test_files")
PYDICOM_DATA_DIR = os.path.join(os.path.dirname(data_store.__file__), "data")
NIBABEL_DIR = os.path.join(os.path.dirname(nib.__file__), "tests", "data")
NOT_DICOM = (".json", ".txt", ".dump", ".icc", ".gz", ".py")

# Lossy transfer syntaxes: another decoder may differ by a level or two per sample.
LOSSY = {
    "1.2.840.10008.1.2.4.50",  # JPEG baseline
    "1.2.840.10008.1.2.4.51",  # JPEG extended (process 2 & 4)
    "1.2.840.10008.1.2.4.81",  # JPEG-LS near-lossless
    "1.2.840.10008.1.2.4.91",  # JPEG 2000 (irreversible allowed)
    "1.2.840.10008.1.2.4.203",  # HTJ2K (irreversible allowed)
}

# PS3.15 Table E.1-1 (Basic Application Level Confidentiality Profile): the attributes with an
# identifying value (X, Z, D or U), by keyword. Left out on purpose: Patient's Sex, Age, Size and
# Weight, kept (as sex and an age band) under the Retain Patient Characteristics Option that Vitals
# declares. Dates are in: under the Modified Dates option they must come back shifted, never as they were.
IDENTIFYING = """
AccessionNumber AcquisitionComments AcquisitionDate AcquisitionDateTime AcquisitionDeviceProcessingDescription
ActualHumanPerformersSequence AdditionalPatientHistory AdmissionID AdmittingDate AdmittingDiagnosesDescription
AdmittingTime Allergies Arbitrary AuthorObserverSequence BranchOfService CassetteID ConcatenationUID
ConsultingPhysicianName ContentCreatorName ContentDate ContentSequence ContributionDescription
CountryOfResidence CurrentPatientLocation DerivationDescription DetectorID DeviceSerialNumber DeviceUID
DimensionOrganizationUID DischargeDiagnosisDescription EthnicGroup FillerOrderNumberImagingServiceRequest
FrameComments FrameOfReferenceUID GantryID GeneratorID HumanPerformerName HumanPerformerOrganization
IconImageSequence IdentifyingComments ImageComments ImagePresentationComments InstanceCreationDate
InstanceCreatorUID InstitutionAddress InstitutionName InstitutionalDepartmentName InsurancePlanIdentification
IrradiationEventUID IssuerOfAdmissionID IssuerOfPatientID MAC MediaStorageSOPInstanceUID MedicalAlerts
MedicalRecordLocator MilitaryRank ModifiedAttributesSequence ModifyingDeviceID NameOfPhysiciansReadingStudy
NamesOfIntendedRecipientsOfResults Occupation OperatorsName OrderCallbackPhoneNumber OrderEnteredBy
OrderEntererLocation OtherPatientIDs OtherPatientIDsSequence OtherPatientNames ParticipantSequence
PatientAddress PatientBirthDate PatientBirthName PatientBirthTime PatientComments PatientID
PatientInstitutionResidence PatientMotherBirthName PatientName PatientReligiousPreference
PatientState PatientTelephoneNumbers PerformedLocation PerformedProcedureStepDescription
PerformedProcedureStepID PerformedProcedureStepStartDate PerformedStationAETitle PerformedStationName
PerformingPhysicianName PersonAddress PersonName PersonTelephoneNumbers PhysicianApprovingInterpretation
PhysiciansOfRecord PhysiciansReadingStudyIdentificationSequence PlacerOrderNumberImagingServiceRequest
PlateID PreMedication PregnancyStatus ProtocolName ReasonForStudy ReferencedFrameOfReferenceUID
ReferencedSOPInstanceUID ReferringPhysicianAddress ReferringPhysicianName ReferringPhysicianTelephoneNumbers
RegionOfResidence RequestAttributesSequence RequestedContrastAgent RequestedProcedureDescription
RequestedProcedureID RequestedProcedureLocation RequestingPhysician RequestingService ResponsibleOrganization
ResponsiblePerson ResultsComments ScheduledHumanPerformersSequence ScheduledPatientInstitutionResidence
ScheduledPerformingPhysicianName ScheduledProcedureStepDescription ScheduledProcedureStepLocation
ScheduledStationAETitle ScheduledStationName ScheduledStudyLocation SeriesDate SeriesDescription
SeriesInstanceUID ServiceEpisodeDescription ServiceEpisodeID SOPInstanceUID SourceImageSequence
SpecialNeeds StationName StorageMediaFileSetUID StudyComments StudyDate StudyDescription StudyID
StudyIDIssuer StudyInstanceUID SynchronizationFrameOfReferenceUID TextComments TextString
TopicAuthor TopicKeywords TopicSubject TopicTitle UID VerifyingObserverName VerifyingOrganization
VisitComments
""".split()
IDENTIFYING_SET = set(IDENTIFYING)
TEXT_VRS = {"PN", "LO", "SH", "ST", "LT", "UT", "UI", "DA", "DT", "AE", "CS", "UC"}


def identifying_values(ds):
    """Values (at any depth, file meta included) of profile attributes, too long to match by chance."""
    out = set()
    elements = list(ds.file_meta.iterall()) if getattr(ds, "file_meta", None) else []
    elements += list(ds.iterall())
    for el in elements:
        if el.keyword not in IDENTIFYING_SET or el.VR not in TEXT_VRS or el.value is None:
            continue
        values = el.value if isinstance(el.value, (list, pydicom.multival.MultiValue)) else [el.value]
        for v in values:
            s = str(v).strip().strip("\x00").strip()
            if len(s) < 4 or len(set(s)) < 3:
                continue  # "", "M", "0000", "ANON"-length values would match unrelated text
            out.add(s)
            if el.VR == "PN":  # each name component alone, when it is a word of its own
                out.update(p for p in s.replace("=", "^").split("^") if len(p) >= 4 and p.isalpha())
    # A value the file also holds within an attribute the profile keeps (Institution Name "TOSHIBA",
    # Manufacturer "TOSHIBA_MEC") may rightly come back as part of that attribute.
    kept = sorted({str(el.value) for el in elements if el.keyword and el.keyword not in IDENTIFYING_SET and el.VR in TEXT_VRS and el.value is not None and len(str(el.value)) >= 4})
    return sorted(v for v in out if not any(v in k for k in kept)), kept


def frame_group_items(ds, frame, sequence):
    """The first item of `sequence` in each of a frame's functional groups: per-frame first, then shared."""
    groups = []
    if "PerFrameFunctionalGroupsSequence" in ds and frame < len(ds.PerFrameFunctionalGroupsSequence):
        groups.append(ds.PerFrameFunctionalGroupsSequence[frame])
    if "SharedFunctionalGroupsSequence" in ds and len(ds.SharedFunctionalGroupsSequence):
        groups.append(ds.SharedFunctionalGroupsSequence[0])
    return [g[sequence].value[0] for g in groups if sequence in g and len(g[sequence].value)]


def per_frame_rescale(ds, frame):
    """(slope, intercept) for one frame of an enhanced object, or None when it has no functional groups."""
    for item in frame_group_items(ds, frame, "PixelValueTransformationSequence"):
        slope = float(item.get("RescaleSlope", 1) or 1)
        return slope, float(item.get("RescaleIntercept", 0) or 0)
    return None


def per_frame_window(ds, frame):
    for item in frame_group_items(ds, frame, "FrameVOILUTSequence"):
        if "WindowCenter" in item and "WindowWidth" in item:
            c, w = first(item.WindowCenter), first(item.WindowWidth)
            if w >= 1:
                return c, w, str(item.get("VOILUTFunction", "LINEAR")).upper()
    return None


def first(v):
    return float(v[0] if isinstance(v, (list, pydicom.multival.MultiValue)) else v)


def modality_values(arr, ds, frame):
    """Real-world values of one frame: pydicom's modality LUT, plus what the standard adds beyond it."""
    pf = per_frame_rescale(ds, frame)
    if pf is not None:
        return arr.astype(np.float64) * pf[0] + pf[1]
    if "RescaleSlope" not in ds and "DoseGridScaling" in ds and float(ds.DoseGridScaling) > 0:
        return arr.astype(np.float64) * float(ds.DoseGridScaling)
    return np.asarray(apply_modality_lut(arr, ds), dtype=np.float64)


def window_level(x, c, w, fn):
    """PS3.3 C.11.2.1.2 into [0, 255]."""
    if fn == "SIGMOID":
        return 255.0 / (1 + np.exp(-4 * (x - c) / w))
    if fn == "LINEAR_EXACT":
        return np.clip((x - c) / w + 0.5, 0, 1) * 255
    if w <= 1:
        return np.where(x <= c - 0.5, 0.0, 255.0)
    y = ((x - (c - 0.5)) / (w - 1) + 0.5) * 255
    y = np.where(x <= c - 0.5 - (w - 1) / 2, 0.0, y)
    return np.where(x > c - 0.5 + (w - 1) / 2, 255.0, y)


def render8(frame0, ds, colour, bits):
    """Frame 1 as a model sees it: colour to 8 bits; grayscale through modality, VOI, MONOCHROME1 inversion."""
    if colour:
        return frame0.astype(np.float64) // (2 ** max(0, bits - 8))
    x = modality_values(frame0, ds, 0)
    win = per_frame_window(ds, 0)
    lut = None
    if win is None and "WindowCenter" in ds and "WindowWidth" in ds:
        c, w = first(ds.WindowCenter), first(ds.WindowWidth)
        if w >= 1:
            win = (c, w, str(ds.get("VOILUTFunction", "LINEAR")).upper())
    if win is None and "VOILUTSequence" in ds and len(ds.VOILUTSequence):
        lut = ds.VOILUTSequence[0]
    if lut is not None:
        entries, first_mapped, lut_bits = (int(v) for v in lut.LUTDescriptor)
        data = np.frombuffer(lut["LUTData"].value, dtype="<u2") if isinstance(lut.LUTData, bytes) else np.asarray(lut.LUTData)
        idx = np.clip(np.round(x) - first_mapped, 0, len(data) - 1).astype(np.int64)
        top = (1 << lut_bits) - 1
        y = np.minimum(data[idx], top) / top * 255
    else:
        if win is None:  # dcmtk's min-max window
            w = max(1.0, x.max() - x.min() + 1)
            win = (x.min() + w / 2, w, "LINEAR")
        y = window_level(x, *win)
    if str(ds.PhotometricInterpretation).upper() == "MONOCHROME1":
        y = 255 - y
    return np.floor(np.clip(y, 0, 255))


def stats(v):
    finite = v[np.isfinite(v)]  # NaN voxels (a resampled volume's outside) are counted, not averaged
    out = {"mean": float(finite.mean()), "std": float(finite.std()), "min": float(finite.min()), "max": float(finite.max())}
    return {**out, "nonfinite": int(v.size - finite.size)} if finite.size < v.size else out


def read_dicom(path):
    raw = open(path, "rb").read()
    ds = pydicom.dcmread(io.BytesIO(raw), force=True)
    if not getattr(ds, "file_meta", None) or "TransferSyntaxUID" not in ds.file_meta:
        # PS3.5 10.1: with no transfer syntax, the default is implicit VR little endian
        ds.file_meta = ds.file_meta if getattr(ds, "file_meta", None) else pydicom.dataset.FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    return ds


def describe_dicom(source, path):
    name = os.path.basename(path)
    row = {"file": name, "source": source, "bytes": os.path.getsize(path)}
    try:
        ds = read_dicom(path)
    except Exception as e:  # noqa: BLE001 - a reference that cannot read a file says so
        return {**row, "decodable": False, "reason": f"pydicom cannot read it: {type(e).__name__}"}
    ts = ds.file_meta.TransferSyntaxUID
    identifying, kept = identifying_values(ds)
    row.update({"transfer_syntax": str(ts), "transfer_syntax_name": ts.name, "identifying": identifying, "kept": kept})
    if not any(k in ds for k in ("PixelData", "FloatPixelData", "DoubleFloatPixelData")):
        return {**row, "decodable": False, "reason": "no pixel data"}
    try:
        arr = ds.pixel_array
    except Exception as e:  # noqa: BLE001
        return {**row, "decodable": False, "reason": f"pydicom does not decode it: {type(e).__name__}: {str(e).splitlines()[0][:120]}"}
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    photometric = str(ds.PhotometricInterpretation).upper()
    palette = photometric == "PALETTE COLOR"
    if palette:
        if not ds.is_little_endian:
            # pydicom 3.0.2's apply_color_lut reads 16-bit LUT Data in the machine's byte order,
            # whatever the file's: hand it the big-endian tables as little-endian words
            for c in ("Red", "Green", "Blue"):
                el = ds.get(f"{c}PaletteColorLookupTableData")
                if el is not None and ds[f"{c}PaletteColorLookupTableDescriptor"].value[2] == 16:
                    ds[f"{c}PaletteColorLookupTableData"].value = np.frombuffer(el, dtype=">u2").astype("<u2").tobytes()
        arr = apply_color_lut(arr, ds)
    colour = palette or int(ds.SamplesPerPixel) == 3
    framed = arr if frames > 1 else arr[np.newaxis]
    if colour:
        values = framed.astype(np.float64)
    else:
        values = np.concatenate([modality_values(framed[i], ds, i).ravel() for i in range(frames)])
    bits = 16 if palette and arr.dtype.itemsize == 2 else 8 if palette else int(ds.BitsStored)
    return {
        **row,
        "decodable": True,
        "photometric": photometric,
        "modality": ds.get("Modality"),
        "rows": int(ds.Rows),
        "columns": int(ds.Columns),
        "frames": frames,
        "channels": 3 if colour else 1,
        "lossy": str(ts) in LOSSY,
        "stats": stats(values),
        "render": stats(render8(framed[0], ds, colour, bits)),
    }


def describe_nifti(path):
    name = os.path.basename(path)
    try:
        # as NIfTI, whatever the extension says (nib.load reads a .dconn.nii as a CIFTI-2 matrix)
        img = nib.load(path)
        img = (nib.Nifti2Image if isinstance(getattr(img, "nifti_header", img.header), nib.Nifti2Header) else nib.Nifti1Image).from_filename(path)
        a = np.asarray(img.get_fdata(), dtype=np.float64)
    except Exception as e:  # noqa: BLE001
        return {"file": name, "decodable": False, "reason": f"nibabel does not read it: {type(e).__name__}"}
    return {"file": name, "decodable": True, "shape": list(a.shape), "stats": stats(a)}


def main():
    dicom = []
    for source, d in (("pydicom", PYDICOM_DIR), ("pydicom-data", PYDICOM_DATA_DIR)):
        for n in sorted(os.listdir(d)):
            p = os.path.join(d, n)
            if os.path.isfile(p) and not n.endswith(NOT_DICOM):
                dicom.append({**describe_dicom(source, p), "path": p})
    nifti = [{**describe_nifti(os.path.join(NIBABEL_DIR, n)), "path": os.path.join(NIBABEL_DIR, n)} for n in sorted(os.listdir(NIBABEL_DIR)) if n.endswith((".nii", ".nii.gz"))]
    versions = {"pydicom": pydicom.__version__, "pydicom-data": data_store.__version__, "nibabel": nib.__version__, "numpy": np.__version__}
    json.dump({"versions": versions, "dicom": dicom, "nifti": nifti}, sys.stdout)


if __name__ == "__main__":
    main()
