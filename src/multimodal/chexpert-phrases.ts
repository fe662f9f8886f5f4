/**
 * The phrase lists of the CheXpert-style report labeler (chexpert-labeler.ts), written for Vitals
 * after the approach of the CheXpert labeler and NegBio (mention phrases per observation, then
 * negation and uncertainty rules): what a chest radiograph report says about each of the 14
 * observations. Lists are lower case; hyphens are spaces (the tokenizer splits them).
 *
 * Three kinds of phrase:
 * - terms: a noun phrase that names the finding ("pleural effusion", "cardiomegaly"), affirmed
 *   unless a negation or uncertainty trigger reaches it;
 * - descriptions: an anatomical subject and what is said of it ("the cardiac silhouette is
 *   enlarged", "heart size is normal", "clear lungs", "blunting of the costophrenic angle"), where
 *   the descriptor carries the polarity;
 * - ignored phrases that contain a term's words but are not the finding ("pericardial effusion",
 *   "soft tissue edema", "mass effect", "ECG leads"): matched first so that their words label nothing.
 */

export const OBSERVATIONS = [
  'No Finding',
  'Enlarged Cardiomediastinum',
  'Cardiomegaly',
  'Lung Opacity',
  'Lung Lesion',
  'Edema',
  'Consolidation',
  'Pneumonia',
  'Atelectasis',
  'Pneumothorax',
  'Pleural Effusion',
  'Pleural Other',
  'Fracture',
  'Support Devices',
] as const;
export type Observation = (typeof OBSERVATIONS)[number];

export interface TermGroup {
  observations: Observation[];
  terms: string[];
  /** what an affirmed mention means: default positive; "blunting" only suggests an effusion */
  affirmed?: 'positive' | 'uncertain';
  /** a phrase that says something only when negated ("no acute osseous abnormality": no fracture) */
  negatedOnly?: boolean;
}

export const TERMS: TermGroup[] = [
  {
    observations: ['Enlarged Cardiomediastinum'],
    terms: [
      'enlarged cardiomediastinum',
      'mediastinal widening',
      'widened mediastinum',
      'widening of the mediastinum',
      'mediastinal enlargement',
      'enlarged mediastinum',
      'widened superior mediastinum',
    ],
  },
  {
    observations: ['Cardiomegaly'],
    terms: [
      'cardiomegaly',
      'cardiac enlargement',
      'enlargement of the heart',
      'enlarged heart',
      'enlarged cardiac silhouette',
      'enlarged heart size',
      'increased heart size',
      'increased cardiac size',
    ],
  },
  {
    observations: ['Lung Opacity'],
    terms: [
      'opacity',
      'opacities',
      'opacification',
      'opacifications',
      'opacified',
      'infiltrate',
      'infiltrates',
      'infiltration',
      'infiltrative process',
      'density',
      'densities',
      'haziness',
      'hazy',
      'airspace disease',
      'air space disease',
      'airspace process',
      'air space process',
      'ground glass',
      'reticular markings',
      'reticulation',
      'reticulonodular markings',
      'interstitial markings',
      'interstitial prominence',
      'increased markings',
      'increased interstitial markings',
      'interstitial process',
      'interstitial abnormality',
      'parenchymal abnormality',
    ],
  },
  {
    observations: ['Lung Lesion', 'Lung Opacity'],
    terms: ['nodular opacity', 'nodular opacities', 'nodular density', 'nodular densities'],
  },
  {
    observations: ['Lung Lesion'],
    terms: [
      'mass',
      'masses',
      'nodule',
      'nodules',
      'micronodule',
      'micronodules',
      'lesion',
      'lesions',
      'tumor',
      'tumors',
      'tumour',
      'neoplasm',
      'neoplasms',
      'malignancy',
      'carcinoma',
      'cancer',
      'metastasis',
      'metastases',
      'metastatic disease',
      'cavitary lesion',
      'cavitation',
      'cavity',
      'granuloma',
      'granulomas',
    ],
  },
  {
    observations: ['Edema'],
    terms: [
      'edema',
      'oedema',
      'pulmonary edema',
      'interstitial edema',
      'alveolar edema',
      'vascular congestion',
      'pulmonary vascular congestion',
      'pulmonary venous congestion',
      'venous congestion',
      'vascular engorgement',
      'pulmonary vascular engorgement',
      'pulmonary venous hypertension',
      'cephalization',
      'vascular redistribution',
      'kerley b lines',
      'kerley lines',
      'septal lines',
      'congestive heart failure',
      'heart failure',
      'chf',
      'fluid overload',
      'volume overload',
    ],
  },
  {
    observations: ['Consolidation'],
    terms: ['consolidation', 'consolidations', 'consolidative', 'consolidated', 'airspace consolidation', 'consolidative opacity', 'consolidative opacities'],
  },
  {
    observations: ['Pneumonia'],
    terms: ['pneumonia', 'pneumonias', 'bronchopneumonia', 'infection', 'infections', 'infectious process', 'infectious', 'aspiration', 'aspiration pneumonia'],
  },
  {
    observations: ['Atelectasis'],
    terms: ['atelectasis', 'atelectases', 'atelectatic', 'atelectatic change', 'atelectatic changes', 'collapse', 'collapsed', 'volume loss'],
  },
  {
    observations: ['Pneumothorax'],
    terms: ['pneumothorax', 'pneumothoraces', 'ptx'],
  },
  {
    observations: ['Pneumothorax', 'Pleural Effusion'],
    terms: ['hydropneumothorax'],
  },
  {
    observations: ['Pleural Effusion'],
    terms: ['pleural effusion', 'pleural effusions', 'effusion', 'effusions', 'pleural fluid', 'hydrothorax', 'layering fluid', 'loculated fluid', 'subpulmonic fluid', 'fluid in the pleural space'],
  },
  {
    observations: ['Pleural Effusion'],
    terms: ['costophrenic angle blunting', 'costophrenic blunting', 'blunted costophrenic angle', 'blunted costophrenic angles'],
    affirmed: 'uncertain',
  },
  {
    observations: ['Pleural Other'],
    terms: [
      'pleural thickening',
      'pleural plaque',
      'pleural plaques',
      'calcified pleural plaque',
      'calcified pleural plaques',
      'pleural calcification',
      'pleural calcifications',
      'pleural scarring',
      'pleural scar',
      'pleuroparenchymal scarring',
      'pleural parenchymal scarring',
      'fibrothorax',
      'apical cap',
      'apical capping',
      'apical pleural thickening',
    ],
  },
  {
    observations: ['Fracture'],
    terms: ['fracture', 'fractures', 'fractured', 'fx'],
  },
  {
    observations: ['Fracture'],
    terms: ['osseous abnormality', 'osseous abnormalities', 'bony abnormality', 'bony abnormalities', 'osseous injury', 'bony injury', 'osseous lesion'],
    negatedOnly: true,
  },
  {
    observations: ['Support Devices'],
    terms: [
      'tube',
      'tubes',
      'line',
      'lines',
      'catheter',
      'catheters',
      'endotracheal tube',
      'et tube',
      'ett',
      'nasogastric tube',
      'ng tube',
      'orogastric tube',
      'og tube',
      'enteric tube',
      'feeding tube',
      'dobhoff',
      'dobhoff tube',
      'central line',
      'central venous catheter',
      'central venous line',
      'picc',
      'picc line',
      'port',
      'port a cath',
      'portacath',
      'chest port',
      'pacemaker',
      'pacemakers',
      'pacer',
      'icd',
      'aicd',
      'defibrillator',
      'pacing leads',
      'pacer leads',
      'pacemaker leads',
      'pacing wires',
      'chest tube',
      'chest tubes',
      'pigtail catheter',
      'drain',
      'drains',
      'sternotomy wires',
      'sternal wires',
      'median sternotomy',
      'sternotomy',
      'surgical clips',
      'clips',
      'stent',
      'stents',
      'valve replacement',
      'prosthetic valve',
      'prosthetic aortic valve',
      'prosthetic mitral valve',
      'valve prosthesis',
      'tracheostomy',
      'tracheostomy tube',
      'swan ganz',
      'swan ganz catheter',
      'pulmonary artery catheter',
      'lvad',
      'left ventricular assist device',
      'intra aortic balloon pump',
      'iabp',
      'hardware',
      'device',
      'devices',
      'loop recorder',
      'coil',
      'coils',
      'guide wire',
      'guidewire',
      'prosthesis',
    ],
  },
];

/**
 * Phrases matched first that label nothing: findings outside the 14 whose words overlap a term,
 * and devices that are not support devices (external monitoring leads).
 */
export const IGNORED: string[] = [
  'pericardial effusion',
  'pericardial effusions',
  'pericardial fluid',
  'joint effusion',
  'soft tissue edema',
  'subcutaneous edema',
  'cerebral edema',
  'bowel wall edema',
  'scrotal edema',
  'mass effect',
  'bone density',
  'bone densities',
  'breast density',
  'soft tissue density',
  'soft tissue densities',
  'nipple shadow',
  'nipple shadows',
  'monitoring leads',
  'ecg leads',
  'ekg leads',
  'telemetry leads',
  'external leads',
  'midline',
  'pleural line',
  'skin fold',
  'skin folds',
  'pleural cavity',
  'thoracic cavity',
  'abdominal cavity',
  'oral cavity',
  'body mass',
];

/**
 * Statements that a study is normal, the evidence the "No Finding" rule needs besides mentions:
 * No Finding is positive when the report says something about the chest and none of the other
 * observations except Support Devices is positive or uncertain (the CheXpert rule). The first list
 * counts when affirmed ("normal chest radiograph"), the second when negated ("no acute
 * cardiopulmonary process", "no evidence of active disease").
 */
export const NORMAL_STATEMENTS: string[] = [
  'normal chest',
  'normal chest radiograph',
  'normal chest radiographs',
  'normal chest x ray',
  'normal radiograph of the chest',
  'normal study',
  'normal examination',
  'unremarkable chest radiograph',
  'unremarkable study',
  'unremarkable examination',
];
export const ACUTE_PROCESS: string[] = [
  'acute cardiopulmonary process',
  'acute cardiopulmonary abnormality',
  'acute cardiopulmonary abnormalities',
  'acute cardiopulmonary disease',
  'acute cardiopulmonary findings',
  'acute cardiopulmonary pathology',
  'acute cardiopulmonary',
  'acute intrathoracic process',
  'acute intrathoracic abnormality',
  'acute pulmonary process',
  'acute pulmonary disease',
  'acute chest disease',
  'acute disease',
  'acute findings',
  'acute abnormality',
  'acute process',
  'active disease',
  'active pulmonary disease',
  'cardiopulmonary process',
  'cardiopulmonary disease',
  'cardiopulmonary abnormality',
];

export type Polarity = 'positive' | 'negative' | 'uncertain';

/**
 * A described subject: the anatomy whose description labels an observation, and which
 * observations each polarity of its descriptors labels ("the cardiomediastinal silhouette is
 * normal" rules out both an enlarged heart and an enlarged mediastinum; enlarged, it says only the
 * latter).
 */
export interface DescribedSubject {
  name: string;
  subjects: string[];
  labels: Partial<Record<Polarity, Observation[]>>;
  /** descriptors after the subject ("is enlarged") or before it ("enlarged heart") */
  descriptors: Partial<Record<Polarity, string[]>>;
  /** nouns before "of the <subject>" ("enlargement of the cardiac silhouette") */
  nominal?: Partial<Record<Polarity, string[]>>;
}

const NORMAL = ['normal', 'normal in size', 'normal size', 'normal in caliber', 'within normal limits', 'unremarkable', 'not enlarged', 'small', 'stable and normal'];
const BORDERLINE = [
  'borderline',
  'borderline enlarged',
  'borderline in size',
  'upper limits of normal',
  'upper limit of normal',
  'upper normal',
  'top normal',
  'top of normal',
  'high normal',
  'at the upper limits of normal',
  'prominent',
  'mildly prominent',
];

export const DESCRIBED: DescribedSubject[] = [
  {
    name: 'heart',
    subjects: [
      'heart',
      'heart size',
      'cardiac size',
      'cardiac silhouette',
      'cardiac contour',
      'cardiac contours',
      'cardiac shadow',
      'size of the heart',
      'cardiac',
      'heart shadow',
      'cardiac diameter',
    ],
    labels: { positive: ['Cardiomegaly'], negative: ['Cardiomegaly'], uncertain: ['Cardiomegaly'] },
    descriptors: { positive: ['enlarged', 'large', 'larger', 'increased', 'enlarging', 'increased in size'], negative: NORMAL, uncertain: BORDERLINE },
    nominal: { positive: ['enlargement', 'increase in size'], uncertain: ['prominence'] },
  },
  {
    name: 'cardiomediastinal silhouette',
    subjects: ['cardiomediastinal silhouette', 'cardiomediastinal contour', 'cardiomediastinal contours', 'cardiomediastinal silhouettes', 'heart and mediastinum', 'cardiomediastinal'],
    labels: { positive: ['Enlarged Cardiomediastinum'], negative: ['Enlarged Cardiomediastinum', 'Cardiomegaly'], uncertain: ['Enlarged Cardiomediastinum'] },
    descriptors: { positive: ['enlarged', 'widened', 'wide', 'increased', 'large'], negative: NORMAL, uncertain: BORDERLINE },
    nominal: { positive: ['enlargement', 'widening'], uncertain: ['prominence'] },
  },
  {
    name: 'mediastinum',
    subjects: ['mediastinum', 'mediastinal contour', 'mediastinal contours', 'mediastinal silhouette', 'mediastinal width', 'superior mediastinum', 'mediastinal'],
    labels: { positive: ['Enlarged Cardiomediastinum'], negative: ['Enlarged Cardiomediastinum'], uncertain: ['Enlarged Cardiomediastinum'] },
    descriptors: { positive: ['widened', 'wide', 'enlarged', 'increased', 'widening'], negative: [...NORMAL, 'not widened'], uncertain: BORDERLINE },
    nominal: { positive: ['widening', 'enlargement'], uncertain: ['prominence'] },
  },
  {
    name: 'lungs',
    subjects: ['lungs', 'lung', 'lung fields', 'lung field', 'lung parenchyma', 'pulmonary parenchyma', 'both lungs', 'lung bases', 'lung base', 'lung apex', 'lung apices', 'lung zones'],
    labels: { negative: ['Lung Opacity'] },
    descriptors: { negative: ['clear'] },
  },
  {
    name: 'pulmonary vasculature',
    subjects: ['pulmonary vasculature', 'pulmonary vascularity', 'pulmonary vessels', 'pulmonary vascular markings', 'vascular markings', 'vasculature', 'pulmonary vascular'],
    labels: { positive: ['Edema'], negative: ['Edema'], uncertain: ['Edema'] },
    descriptors: {
      positive: ['engorged', 'congested', 'cephalized', 'redistributed', 'increased', 'indistinct'],
      negative: ['normal', 'within normal limits', 'unremarkable', 'not engorged', 'not congested', 'not increased'],
      uncertain: ['prominent', 'mildly prominent', 'upper limits of normal', 'upper limit of normal', 'borderline'],
    },
    nominal: { positive: ['engorgement', 'congestion', 'cephalization'], uncertain: ['prominence'] },
  },
  {
    name: 'costophrenic angles',
    subjects: ['costophrenic angle', 'costophrenic angles', 'costophrenic sulcus', 'costophrenic sulci', 'cp angle', 'cp angles'],
    labels: { negative: ['Pleural Effusion'], uncertain: ['Pleural Effusion'] },
    descriptors: { negative: ['sharp', 'clear', 'preserved', 'normal', 'well defined'], uncertain: ['blunted', 'blunt'] },
    nominal: { uncertain: ['blunting'] },
  },
  {
    name: 'pleural spaces',
    subjects: ['pleural spaces', 'pleural space', 'pleural surfaces', 'pleura'],
    labels: { negative: ['Pleural Effusion', 'Pneumothorax'] },
    descriptors: { negative: ['clear', 'normal', 'unremarkable'] },
  },
  {
    name: 'bones',
    subjects: ['osseous structures', 'bony structures', 'bones', 'osseous', 'bony thorax', 'skeletal structures', 'visualized osseous structures', 'visualized bones', 'ribs', 'bony'],
    labels: { negative: ['Fracture'] },
    descriptors: { negative: ['intact', 'unremarkable', 'normal', 'grossly intact'] },
  },
];

/** Words that may stand between a subject and its descriptor ("heart size is again mildly enlarged"). */
export const COPULAS = new Set([
  'is',
  'are',
  'was',
  'were',
  'remains',
  'remain',
  'remained',
  'appears',
  'appear',
  'appeared',
  'seems',
  'seem',
  'looks',
  'look',
  'be',
  'been',
  'become',
  'becomes',
  'has',
  'have',
]);
export const FILLERS = new Set([
  'now',
  'again',
  'still',
  'also',
  'stably',
  'mildly',
  'moderately',
  'markedly',
  'severely',
  'slightly',
  'minimally',
  'somewhat',
  'significantly',
  'overall',
  'otherwise',
  'grossly',
  'essentially',
  'within',
  'well',
  'expanded',
  'inflated',
  'aerated',
  'hyperinflated',
  'bilaterally',
  'and',
  'or',
  'the',
  'a',
  'at',
  'of',
  'in',
  'both',
  'size',
  'sizes',
  'contour',
  'contours',
  'silhouette',
  'silhouettes',
  'hila',
  'hilar',
  'hilum',
  'aortic',
  'pulmonary',
  'mediastinal',
  'cardiac',
  'vascular',
  'left',
  'right',
  'bilateral',
  'but',
  ':',
]);
/** Adverbs allowed between a descriptor and the subject it precedes ("mildly enlarged heart"). */
export const PRE_FILLERS = new Set(['mildly', 'moderately', 'markedly', 'severely', 'slightly', 'minimally', 'stably', 'persistently', 'again']);
/** Hedges inside a description: "the heart is likely enlarged". */
export const INNER_HEDGES = new Set(['likely', 'probably', 'possibly', 'perhaps', 'questionably', 'may', 'might', 'could', 'possible', 'probable', 'presumably', 'equivocally']);
/** Negations inside a description: "the heart is not enlarged", "no longer enlarged". */
export const INNER_NEGATIONS = new Set(['not', 'no', 'never', 'longer']);
