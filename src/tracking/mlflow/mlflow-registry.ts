/**
 * MLflow's model registry over the Vitals registry: an MLflow registered model is a Vitals model,
 * and an MLflow model version whose artifacts hold an ONNX model (model-source.ts) is registered as
 * the Vitals version `<N>.0.0` — validated by the runtime, servable, with the run's metrics and
 * params. An alias set through MLflow is a Vitals alias move (history, events, serving path).
 * `mlflow_model_versions` keeps what only MLflow has: the integer numbering, source, run, tags.
 */
import type { Selectable } from 'kysely';
import { VitalsError } from '../../errors.js';
import { nowIso } from '../../ids.js';
import { ALIASES, type Alias, type Model, type ModelRegistry, type ModelVersion } from '../../registry/index.js';
import type { Database } from '../../store/index.js';
import type { MlflowModelVersionsTable } from '../tables.js';
import { doesNotExist, invalidParameter, mlflowError } from './mlflow-errors.js';
import { type KeyValue, type MlflowTracking, decodePageToken, encodePageToken, runArtifactRoot } from './mlflow-tracking.js';
import { servableModel, sourceDirectory } from './model-source.js';
import type { RunArtifacts } from './run-artifacts.js';
import { type SearchGrammar, SearchSyntaxError, matches, parseFilter, parseOrderBy, sortEntities } from './search-filter.js';

export type RegistryForMlflow = Pick<
  ModelRegistry,
  'createModel' | 'updateModel' | 'deleteModel' | 'getModel' | 'listModels' | 'listVersions' | 'register' | 'promote' | 'removeAlias' | 'archive' | 'getVersion'
>;

export interface MlflowModelVersion {
  name: string;
  version: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  user_id?: string;
  current_stage: string;
  description?: string;
  source: string;
  run_id?: string;
  status: 'READY';
  status_message?: string;
  tags: KeyValue[];
  aliases: string[];
}

export interface MlflowRegisteredModel {
  name: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  user_id?: string;
  description?: string;
  latest_versions: MlflowModelVersion[];
  tags: KeyValue[];
  aliases: Array<{ alias: string; version: string }>;
}

type VersionRow = Selectable<MlflowModelVersionsTable>;

const MODEL_GRAMMAR: SearchGrammar = {
  entity: 'registered models',
  strings: new Set(['name']),
  numbers: new Set(['creation_timestamp', 'last_updated_timestamp']),
  aliases: { timestamp: 'last_updated_timestamp' },
  defaultOrder: ['name', true],
};
const VERSION_GRAMMAR: SearchGrammar = {
  entity: 'model versions',
  strings: new Set(['name', 'run_id', 'source', 'version_number']),
  numbers: new Set(['creation_timestamp', 'last_updated_timestamp', 'version']),
  lists: new Set(['run_id']),
  defaultOrder: ['last_updated_timestamp', false],
};

const vitalsSemver = (n: number) => `${n}.0.0`;
const tagMap = (tags: KeyValue[] | undefined) => Object.fromEntries((tags ?? []).map((t) => [t.key, t.value]));

function parse(filter: string | undefined, orderBy: string[] | undefined, g: SearchGrammar) {
  try {
    return { clauses: parseFilter(filter, g), order: parseOrderBy(orderBy, g) };
  } catch (err) {
    if (err instanceof SearchSyntaxError) throw invalidParameter(`Invalid search expression: ${err.message}`);
    throw err;
  }
}

function aliasOf(alias: string): Alias {
  if (!(ALIASES as readonly string[]).includes(alias)) {
    throw invalidParameter(`alias "${alias}" is not a Vitals alias: use one of ${ALIASES.join(', ')} (production is what POST /api/v1/ml-models/predict serves)`);
  }
  return alias as Alias;
}

export class MlflowModelRegistry {
  constructor(
    private readonly database: Database,
    private readonly registry: RegistryForMlflow,
    private readonly tracking: Pick<MlflowTracking, 'runSummary'>,
    private readonly artifacts: Pick<RunArtifacts, 'walk' | 'get'>,
  ) {}

  private get db() {
    return this.database.db;
  }

  private async model(name: string): Promise<Model> {
    try {
      return await this.registry.getModel(name);
    } catch (err) {
      if (err instanceof VitalsError && err.statusCode === 404) throw doesNotExist(`Registered Model with name=${name} not found`);
      throw err;
    }
  }

  private versionView(row: VersionRow, modelName: string, aliases: Map<number, string[]>): MlflowModelVersion {
    return {
      name: modelName,
      version: String(row.version),
      creation_timestamp: Date.parse(row.created_at),
      last_updated_timestamp: Date.parse(row.updated_at),
      ...(row.user_id ? { user_id: row.user_id } : {}),
      current_stage: 'None',
      ...(row.description ? { description: row.description } : {}),
      source: row.source,
      ...(row.run_id ? { run_id: row.run_id } : {}),
      status: 'READY',
      ...(row.status_message ? { status_message: row.status_message } : {}),
      tags: Object.entries(JSON.parse(row.tags) as Record<string, string>).map(([key, value]) => ({ key, value })),
      aliases: aliases.get(row.version) ?? [],
    };
  }

  /** MLflow version number → the Vitals aliases pointing at its Vitals version. */
  private aliasesByNumber(model: Model, rows: VersionRow[]): Map<number, string[]> {
    const out = new Map<number, string[]>();
    for (const [alias, semver] of Object.entries(model.aliases)) {
      const row = rows.find((r) => r.vitals_version_id && vitalsSemver(r.version) === semver);
      if (row) out.set(row.version, [...(out.get(row.version) ?? []), alias]);
    }
    return out;
  }

  private async versionRows(modelId: string): Promise<VersionRow[]> {
    return this.db.selectFrom('mlflow_model_versions').selectAll().where('model_id', '=', modelId).orderBy('version').execute();
  }

  private async modelView(model: Model): Promise<MlflowRegisteredModel> {
    const extra = await this.db.selectFrom('mlflow_registered_models').selectAll().where('model_id', '=', model.id).executeTakeFirst();
    const rows = await this.versionRows(model.id);
    const aliases = this.aliasesByNumber(model, rows);
    const latest = rows.at(-1);
    return {
      name: model.name,
      creation_timestamp: Date.parse(model.created_at),
      last_updated_timestamp: Math.max(Date.parse(model.updated_at), extra ? Date.parse(extra.updated_at) : 0, latest ? Date.parse(latest.updated_at) : 0),
      ...(extra?.user_id ? { user_id: extra.user_id } : {}),
      ...(model.description ? { description: model.description } : {}),
      latest_versions: latest ? [this.versionView(latest, model.name, aliases)] : [],
      tags: Object.entries(JSON.parse(extra?.tags ?? '{}') as Record<string, string>).map(([key, value]) => ({ key, value })),
      aliases: [...aliases].flatMap(([version, names]) => names.map((alias) => ({ alias, version: String(version) }))),
    };
  }

  // ---------- registered models ----------

  async createRegisteredModel(input: { name: string; description?: string; tags?: KeyValue[]; user_id?: string }): Promise<MlflowRegisteredModel> {
    if (!input.name) throw invalidParameter('Registered model name cannot be empty.');
    const exists = await this.registry.getModel(input.name).then(
      () => true,
      () => false,
    );
    if (exists) throw mlflowError('RESOURCE_ALREADY_EXISTS', `Registered Model (name=${input.name}) already exists.`);
    const model = await this.registry.createModel({ name: input.name, description: input.description || null });
    await this.db
      .insertInto('mlflow_registered_models')
      .values({ model_id: model.id, tags: JSON.stringify(tagMap(input.tags)), user_id: input.user_id ?? null, updated_at: nowIso() })
      .execute();
    return this.modelView(model);
  }

  async getRegisteredModel(name: string): Promise<MlflowRegisteredModel> {
    return this.modelView(await this.model(name));
  }

  async searchRegisteredModels(options: {
    filter?: string;
    maxResults?: number;
    orderBy?: string[];
    pageToken?: string;
  }): Promise<{ registered_models: MlflowRegisteredModel[]; next_page_token?: string }> {
    const { clauses, order } = parse(options.filter, options.orderBy, MODEL_GRAMMAR);
    const views = await Promise.all((await this.registry.listModels()).map((m) => this.modelView(m)));
    const entities = views.map((v) => ({
      id: v.name,
      attributes: { name: v.name, creation_timestamp: v.creation_timestamp, last_updated_timestamp: v.last_updated_timestamp },
      tags: tagMap(v.tags),
      view: v,
    }));
    const sorted = sortEntities(
      entities.filter((e) => matches(e, clauses)),
      order,
      MODEL_GRAMMAR,
    );
    const offset = decodePageToken(options.pageToken);
    const max = options.maxResults ?? 100;
    return { registered_models: sorted.slice(offset, offset + max).map((e) => e.view), ...(offset + max < sorted.length ? { next_page_token: encodePageToken(offset + max) } : {}) };
  }

  async updateRegisteredModel(name: string, description: string | undefined): Promise<MlflowRegisteredModel> {
    const model = await this.model(name);
    return this.modelView(await this.registry.updateModel(model.id, { description: description ?? null }));
  }

  async deleteRegisteredModel(name: string): Promise<void> {
    const model = await this.model(name);
    const versions = await this.registry.listVersions(model.id);
    if (versions.length) {
      throw invalidParameter(`Registered Model ${name} has served Vitals versions (${versions.map((v) => v.version).join(', ')}); Vitals keeps versions for the prediction log: archive them instead`);
    }
    await this.db.deleteFrom('mlflow_model_versions').where('model_id', '=', model.id).execute();
    await this.db.deleteFrom('mlflow_registered_models').where('model_id', '=', model.id).execute();
    await this.registry.deleteModel(model.id);
  }

  async setRegisteredModelTag(name: string, key: string, value: string | null): Promise<void> {
    const model = await this.model(name);
    const row = await this.db.selectFrom('mlflow_registered_models').selectAll().where('model_id', '=', model.id).executeTakeFirst();
    const tags = JSON.parse(row?.tags ?? '{}') as Record<string, string>;
    if (value === null) delete tags[key];
    else tags[key] = value;
    const now = nowIso();
    await this.db
      .insertInto('mlflow_registered_models')
      .values({ model_id: model.id, tags: JSON.stringify(tags), user_id: null, updated_at: now })
      .onConflict((oc) => oc.column('model_id').doUpdateSet({ tags: JSON.stringify(tags), updated_at: now }))
      .execute();
  }

  // ---------- model versions ----------

  private async versionRow(name: string, version: string): Promise<{ model: Model; row: VersionRow }> {
    const model = await this.model(name);
    const n = Number(version);
    if (!Number.isInteger(n) || n < 1) throw invalidParameter(`Model version must be a positive integer, got '${version}'`);
    const row = await this.db.selectFrom('mlflow_model_versions').selectAll().where('model_id', '=', model.id).where('version', '=', n).executeTakeFirst();
    if (!row) throw doesNotExist(`Model Version (name=${name}, version=${version}) not found`);
    return { model, row };
  }

  async createModelVersion(input: { name: string; source: string; run_id?: string; tags?: KeyValue[]; description?: string; user_id?: string; actor: string }): Promise<MlflowModelVersion> {
    const model = await this.model(input.name);
    if (!input.source) throw invalidParameter('Model version source cannot be empty.');
    const dir = await sourceDirectory(input.source, async (runId) => {
      const run = await this.tracking.runSummary(runId);
      return run ? runArtifactRoot(run.experiment_id, runId) : undefined;
    });
    let statusMessage: string | null = null;
    let servable: { onnxPath: string; input_spec: unknown; output_spec: unknown; task: 'classification' | 'regression' } | undefined;
    if (dir === undefined) {
      statusMessage = `not servable by Vitals: the source ${input.source} is not in the Vitals artifact store`;
    } else {
      const files = (await this.artifacts.walk(dir)).map((f) => f.path);
      const mlmodel = files.includes('MLmodel') ? Buffer.from(await this.artifacts.get(`${dir}/MLmodel`)).toString('utf8') : undefined;
      const check = servableModel(files, mlmodel, dir);
      if (check.servable) servable = check.model;
      else statusMessage = `not servable by Vitals: ${check.reason}`;
    }

    const rows = await this.versionRows(model.id);
    const vitalsMajors = (await this.registry.listVersions(model.id)).map((v) => Number(v.version.split('.')[0]));
    const number = Math.max(0, ...rows.map((r) => r.version), ...vitalsMajors) + 1;
    let vitalsVersion: ModelVersion | undefined;
    if (servable) {
      const run = input.run_id ? await this.tracking.runSummary(input.run_id) : undefined;
      vitalsVersion = await this.registry.register({
        name: model.name,
        version: vitalsSemver(number),
        artifact: await this.artifacts.get(servable.onnxPath),
        task: servable.task,
        input_spec: servable.input_spec,
        output_spec: servable.output_spec,
        metrics: run?.metrics ?? {},
        params: run?.params ?? {},
        lineage: { mlflow: { run_id: input.run_id ?? null, source: input.source, version: number } },
        description: input.description,
        actor: input.actor,
      });
    }
    const now = nowIso();
    await this.db
      .insertInto('mlflow_model_versions')
      .values({
        model_id: model.id,
        version: number,
        source: input.source,
        run_id: input.run_id || null,
        description: input.description || null,
        tags: JSON.stringify(tagMap(input.tags)),
        status_message: statusMessage,
        vitals_version_id: vitalsVersion?.id ?? null,
        user_id: input.user_id || null,
        created_at: now,
        updated_at: now,
      })
      .execute();
    return this.getModelVersion(model.name, String(number));
  }

  async getModelVersion(name: string, version: string): Promise<MlflowModelVersion> {
    const { model, row } = await this.versionRow(name, version);
    return this.versionView(row, model.name, this.aliasesByNumber(model, [row]));
  }

  async updateModelVersion(name: string, version: string, description: string | undefined): Promise<MlflowModelVersion> {
    const { model, row } = await this.versionRow(name, version);
    await this.db
      .updateTable('mlflow_model_versions')
      .set({ description: description ?? null, updated_at: nowIso() })
      .where('model_id', '=', model.id)
      .where('version', '=', row.version)
      .execute();
    return this.getModelVersion(name, version);
  }

  /** MLflow deletes; Vitals archives the served version (the prediction log refers to it) and drops the MLflow entry. */
  async deleteModelVersion(name: string, version: string, actor: string): Promise<void> {
    const { model, row } = await this.versionRow(name, version);
    if (row.vitals_version_id) await this.registry.archive(row.vitals_version_id, { actor, reason: 'deleted through the MLflow API' });
    await this.db.deleteFrom('mlflow_model_versions').where('model_id', '=', model.id).where('version', '=', row.version).execute();
  }

  async setModelVersionTag(name: string, version: string, key: string, value: string | null): Promise<void> {
    const { model, row } = await this.versionRow(name, version);
    const tags = JSON.parse(row.tags) as Record<string, string>;
    if (value === null) delete tags[key];
    else tags[key] = value;
    await this.db
      .updateTable('mlflow_model_versions')
      .set({ tags: JSON.stringify(tags), updated_at: nowIso() })
      .where('model_id', '=', model.id)
      .where('version', '=', row.version)
      .execute();
  }

  async searchModelVersions(options: { filter?: string; maxResults?: number; orderBy?: string[]; pageToken?: string }): Promise<{ model_versions: MlflowModelVersion[]; next_page_token?: string }> {
    const { clauses, order } = parse(options.filter, options.orderBy, VERSION_GRAMMAR);
    const models = new Map((await this.registry.listModels()).map((m) => [m.id, m]));
    const rows = await this.db.selectFrom('mlflow_model_versions').selectAll().execute();
    const byModel = new Map<string, VersionRow[]>();
    for (const r of rows) byModel.set(r.model_id, [...(byModel.get(r.model_id) ?? []), r]);
    const entities = rows.flatMap((r) => {
      const model = models.get(r.model_id);
      if (!model) return [];
      const view = this.versionView(r, model.name, this.aliasesByNumber(model, byModel.get(r.model_id)!));
      return [
        {
          id: `${model.name}\u0000${String(r.version).padStart(10, '0')}`,
          attributes: {
            name: model.name,
            run_id: r.run_id ?? '',
            source: r.source,
            version: r.version,
            version_number: String(r.version),
            creation_timestamp: view.creation_timestamp,
            last_updated_timestamp: view.last_updated_timestamp,
          },
          tags: tagMap(view.tags),
          view,
        },
      ];
    });
    const sorted = sortEntities(
      entities.filter((e) => matches(e, clauses)),
      order,
      VERSION_GRAMMAR,
    );
    const offset = decodePageToken(options.pageToken);
    const max = options.maxResults ?? 10_000;
    return { model_versions: sorted.slice(offset, offset + max).map((e) => e.view), ...(offset + max < sorted.length ? { next_page_token: encodePageToken(offset + max) } : {}) };
  }

  /** Stages are deprecated in MLflow and Vitals has none: every version is in stage "None". */
  async latestVersions(name: string, stages: string[] | undefined): Promise<MlflowModelVersion[]> {
    const view = await this.getRegisteredModel(name);
    if (stages?.length && !stages.some((s) => s.toLowerCase() === 'none')) return [];
    return view.latest_versions;
  }

  async downloadUri(name: string, version: string): Promise<string> {
    return (await this.versionRow(name, version)).row.source;
  }

  // ---------- aliases (Vitals alias moves) ----------

  async setAlias(name: string, alias: string, version: string, actor: string): Promise<void> {
    const vitalsAlias = aliasOf(alias);
    const { row } = await this.versionRow(name, version);
    if (!row.vitals_version_id) throw invalidParameter(`Model Version (name=${name}, version=${version}) cannot take a Vitals alias: it is ${row.status_message ?? 'not servable'}`);
    await this.registry.promote(row.vitals_version_id, { alias: vitalsAlias, actor, reason: 'set through the MLflow API' });
  }

  async deleteAlias(name: string, alias: string, actor: string): Promise<void> {
    const model = await this.model(name);
    await this.registry.removeAlias(model.id, aliasOf(alias), { actor, reason: 'deleted through the MLflow API' });
  }

  async versionByAlias(name: string, alias: string): Promise<MlflowModelVersion> {
    const model = await this.model(name);
    const semver = model.aliases[alias as Alias];
    const rows = await this.versionRows(model.id);
    const row = semver ? rows.find((r) => r.vitals_version_id && vitalsSemver(r.version) === semver) : undefined;
    if (!row) throw doesNotExist(`Registered model alias ${alias} not found.`);
    return this.versionView(row, model.name, this.aliasesByNumber(model, rows));
  }
}
