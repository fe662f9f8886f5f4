/**
 * The curated lexicon of the report extractor: canonical terms per category, each with the
 * spellings that mean it. Plurals of single words are generated; irregular ones are listed.
 * Kept small and clinical (chest, abdomen, neuro and musculoskeletal radiology) on purpose: every
 * entry is a term a radiologist would accept as that concept.
 */
export type EntityCategory = 'pathology' | 'anatomy' | 'device';

type Entries = Record<string, string[]>;

const PATHOLOGIES: Entries = {
  pneumonia: ['pneumonia', 'pneumonias', 'bronchopneumonia'],
  'pleural effusion': ['pleural effusion', 'pleural effusions', 'pleural fluid', 'effusion', 'effusions', 'hydrothorax'],
  'pericardial effusion': ['pericardial effusion', 'pericardial effusions'],
  pneumothorax: ['pneumothorax', 'pneumothoraces', 'ptx'],
  consolidation: ['consolidation', 'consolidations', 'airspace consolidation', 'airspace disease', 'air space disease'],
  atelectasis: ['atelectasis', 'atelectases', 'atelectatic change', 'atelectatic changes', 'subsegmental atelectasis'],
  'pulmonary edema': ['pulmonary edema', 'pulmonary oedema', 'interstitial edema', 'alveolar edema', 'vascular congestion', 'pulmonary vascular congestion'],
  edema: ['edema', 'oedema'],
  cardiomegaly: ['cardiomegaly', 'enlarged cardiac silhouette', 'cardiac enlargement', 'enlarged heart'],
  mass: ['mass', 'masses'],
  nodule: ['nodule', 'nodules', 'nodular opacity', 'nodular opacities', 'pulmonary nodule', 'pulmonary nodules'],
  tumor: ['tumor', 'tumors', 'tumour', 'tumours', 'neoplasm', 'neoplasms', 'malignancy', 'malignancies', 'carcinoma', 'cancer'],
  lesion: ['lesion', 'lesions'],
  metastasis: ['metastasis', 'metastases', 'metastatic disease'],
  opacity: ['opacity', 'opacities', 'opacification', 'infiltrate', 'infiltrates', 'haziness'],
  fracture: ['fracture', 'fractures', 'fx'],
  emphysema: ['emphysema', 'emphysematous change', 'emphysematous changes'],
  fibrosis: ['fibrosis', 'fibrotic change', 'fibrotic changes', 'scarring'],
  hemorrhage: ['hemorrhage', 'haemorrhage', 'bleed', 'bleeding', 'hematoma', 'haematoma'],
  infarct: ['infarct', 'infarcts', 'infarction', 'infarctions'],
  'pulmonary embolism': ['pulmonary embolism', 'pulmonary emboli', 'pulmonary embolus'],
  thrombosis: ['thrombosis', 'thrombus', 'thrombi', 'clot', 'dvt', 'deep venous thrombosis', 'deep vein thrombosis'],
  aneurysm: ['aneurysm', 'aneurysms', 'aneurysmal dilatation'],
  stenosis: ['stenosis', 'stenoses'],
  lymphadenopathy: ['lymphadenopathy', 'adenopathy', 'enlarged lymph node', 'enlarged lymph nodes'],
  calcification: ['calcification', 'calcifications', 'calcified granuloma', 'calcified granulomas'],
  granuloma: ['granuloma', 'granulomas'],
  cyst: ['cyst', 'cysts'],
  abscess: ['abscess', 'abscesses'],
  hernia: ['hernia', 'hernias', 'hiatal hernia', 'hiatus hernia'],
  'bowel obstruction': ['bowel obstruction', 'small bowel obstruction', 'large bowel obstruction'],
  obstruction: ['obstruction', 'obstructions'],
  ascites: ['ascites'],
  pneumoperitoneum: ['pneumoperitoneum', 'free air', 'free intraperitoneal air'],
  hydronephrosis: ['hydronephrosis'],
  cholelithiasis: ['cholelithiasis', 'gallstone', 'gallstones'],
  appendicitis: ['appendicitis'],
  diverticulitis: ['diverticulitis'],
  'wall thickening': ['wall thickening', 'wall thickness increased', 'thickened wall', 'mural thickening'],
  bronchiectasis: ['bronchiectasis'],
  hyperinflation: ['hyperinflation', 'hyperinflated lungs', 'hyperexpansion'],
  'mediastinal widening': ['mediastinal widening', 'widened mediastinum'],
  'mass effect': ['mass effect'],
  'midline shift': ['midline shift'],
  'degenerative change': ['degenerative change', 'degenerative changes', 'spondylosis', 'osteophytes', 'osteophyte'],
  scoliosis: ['scoliosis'],
  'interstitial lung disease': ['interstitial lung disease', 'ild', 'interstitial disease'],
  splenomegaly: ['splenomegaly'],
  hepatomegaly: ['hepatomegaly'],
  steatosis: ['steatosis', 'hepatic steatosis', 'fatty liver', 'fatty infiltration'],
  'pleural thickening': ['pleural thickening'],
  'hilar enlargement': ['hilar enlargement', 'hilar prominence'],
  'blunting of the costophrenic angle': ['blunting of the costophrenic angle', 'blunting of the costophrenic angles', 'costophrenic angle blunting', 'costophrenic blunting'],
};

const ANATOMY: Entries = {
  lung: ['lung', 'lungs', 'pulmonary parenchyma', 'lung parenchyma'],
  'right lung': ['right lung'],
  'left lung': ['left lung'],
  'right upper lobe': ['right upper lobe', 'rul'],
  'right middle lobe': ['right middle lobe', 'rml', 'middle lobe'],
  'right lower lobe': ['right lower lobe', 'rll'],
  'left upper lobe': ['left upper lobe', 'lul'],
  'left lower lobe': ['left lower lobe', 'lll'],
  lingula: ['lingula'],
  'lung base': ['lung base', 'lung bases', 'bases'],
  'lung apex': ['lung apex', 'lung apices', 'apices'],
  heart: ['heart', 'cardiac silhouette', 'cardiomediastinal silhouette'],
  mediastinum: ['mediastinum', 'mediastinal contours'],
  hilum: ['hilum', 'hila', 'hilar contours'],
  pleura: ['pleura', 'pleural space', 'pleural spaces'],
  diaphragm: ['diaphragm', 'hemidiaphragm', 'hemidiaphragms', 'diaphragms'],
  'costophrenic angle': ['costophrenic angle', 'costophrenic angles', 'costophrenic sulcus'],
  trachea: ['trachea'],
  bronchus: ['bronchus', 'bronchi', 'airway', 'airways'],
  aorta: ['aorta', 'thoracic aorta', 'abdominal aorta', 'aortic arch'],
  'pulmonary artery': ['pulmonary artery', 'pulmonary arteries'],
  esophagus: ['esophagus', 'oesophagus', 'esophageal', 'oesophageal'],
  stomach: ['stomach'],
  liver: ['liver', 'hepatic'],
  gallbladder: ['gallbladder', 'gall bladder'],
  pancreas: ['pancreas'],
  spleen: ['spleen'],
  kidney: ['kidney', 'kidneys', 'renal'],
  'adrenal gland': ['adrenal gland', 'adrenal glands', 'adrenal', 'adrenals'],
  bladder: ['bladder', 'urinary bladder'],
  bowel: ['bowel', 'small bowel', 'large bowel', 'intestine', 'intestines'],
  colon: ['colon', 'sigmoid colon'],
  appendix: ['appendix'],
  brain: ['brain', 'cerebral hemisphere', 'cerebral hemispheres'],
  ventricles: ['ventricles', 'ventricular system', 'lateral ventricles'],
  spine: ['spine', 'cervical spine', 'thoracic spine', 'lumbar spine', 'vertebral column'],
  vertebra: ['vertebra', 'vertebrae', 'vertebral body', 'vertebral bodies'],
  rib: ['rib', 'ribs'],
  clavicle: ['clavicle', 'clavicles'],
  sternum: ['sternum'],
  'soft tissues': ['soft tissues', 'soft tissue'],
  'bony structures': ['bony structures', 'osseous structures', 'bones'],
  thyroid: ['thyroid', 'thyroid gland'],
  'lymph node': ['lymph node', 'lymph nodes'],
  chest: ['chest', 'thorax'],
  abdomen: ['abdomen'],
  pelvis: ['pelvis'],
  'chest wall': ['chest wall'],
  pericardium: ['pericardium'],
};

const DEVICES: Entries = {
  'endotracheal tube': ['endotracheal tube', 'et tube', 'ett', 'endotracheal tubes'],
  'nasogastric tube': ['nasogastric tube', 'ng tube', 'orogastric tube', 'og tube', 'enteric tube', 'feeding tube', 'dobhoff tube'],
  'central venous catheter': ['central venous catheter', 'central line', 'central venous line', 'cvc', 'internal jugular catheter', 'ij catheter', 'swan-ganz catheter', 'pulmonary artery catheter'],
  'picc line': ['picc line', 'picc', 'peripherally inserted central catheter'],
  pacemaker: ['pacemaker', 'pacemakers', 'pacer', 'cardiac device', 'icd', 'defibrillator', 'pacing leads', 'pacemaker leads'],
  'chest tube': ['chest tube', 'chest tubes', 'thoracostomy tube', 'pleural drain', 'pigtail catheter'],
  'sternotomy wires': ['sternotomy wires', 'median sternotomy wires', 'sternal wires'],
  'surgical clips': ['surgical clips', 'surgical clip', 'clips'],
  stent: ['stent', 'stents'],
  'port catheter': ['port', 'port-a-cath', 'portacath', 'chest port'],
  'tracheostomy tube': ['tracheostomy tube', 'tracheostomy', 'trach tube'],
  'prosthetic valve': ['prosthetic valve', 'valve replacement', 'prosthetic heart valve'],
  'orthopedic hardware': ['orthopedic hardware', 'fixation hardware', 'screws', 'plate and screws', 'spinal fusion hardware'],
};

export interface LexiconEntry {
  canonical: string;
  category: EntityCategory;
}

/** Token sequences (lower case) → entry. */
export const LEXICON = new Map<string, LexiconEntry>();

function add(entries: Entries, category: EntityCategory) {
  for (const [canonical, spellings] of Object.entries(entries)) {
    for (const s of [canonical, ...spellings]) {
      const key = s.toLowerCase().replace(/-/g, ' ');
      if (!LEXICON.has(key)) LEXICON.set(key, { canonical, category });
    }
  }
}
add(PATHOLOGIES, 'pathology');
add(DEVICES, 'device');
add(ANATOMY, 'anatomy');

/** The longest entry, in tokens, bounds the matcher's look-ahead. */
export const LEXICON_MAX_TOKENS = Math.max(...[...LEXICON.keys()].map((k) => k.split(' ').length));
