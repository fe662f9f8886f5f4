/**
 * The model registry: models, semantic versions, aliases (production/staging/challenger), promotion,
 * rollback and archive. Every alias move is a row in `model_events` written in the same transaction
 * as the move, so the history is complete and rollback can read it.
 */
import type { Kysely, Selectable, Transaction } from 'kysely';
import { VitalsError, notFound, validationFailed } from '../errors.js';
import { nowIso, uuidv7 } from '../ids.js';
import type { AuditContext, AuditRecorder } from '../audit/index.js';
import type { ReferenceProfile } from '../stats/reference-profile.js';
import type { Database, ModelEventsTable, ModelVersionsTable, ModelsTable, Schema } from '../store/index.js';
import type { ArtifactStore } from './artifact-store.js';
import { type Bump, bumpSemver, formatSemver, parseSemver } from './semver.js';
import {
  ALIASES,
  type Alias,
  type InputSpec,
  type Modality,
  type ModelTask,
  type OutputSpec,
  inputSpecSchema,
  outputSpecSchema,
} from './specs.js';

export interface Model {
  id: string;
  name: string;
  task: ModelTask;
  modality: Modality;
  description: string | null;
  tags: string[];
  aliases: Partial<Record<Alias, string>>; // alias → version string
  created_at: string;
  updated_at: string;
}

export type VersionStatus = 'ready' | 'archived';

export interface ModelVersion {
  id: string;
  model_id: string;
  model_name: string;
  version: string;
  status: VersionStatus;
  aliases: Alias[];
  artifact: { sha256: string; size: number };
  input_spec: InputSpec;
  output_spec: OutputSpec;
  metrics: Record<string, number>;
  params: Record<string, unknown>;
  metadata: Record<string, unknown>;
  lineage: Record<string, unknown>;
  created_by: string;
  created_at: string;
}

export interface ModelEvent {
  id: string;
  model_id: string;
  action: 'registered' | 'promoted' | 'rolled_back' | 'archived' | 'alias_set' | 'alias_removed';
  alias: string | null;
  from_version: string | null;
  to_version: string | null;
  actor: string;
  reason: string | null;
  created_at: string;
}

export interface RegisterVersionInput {
  name: string;
  artifact: Uint8Array;
  /** explicit semantic version; when absent the latest version is bumped (`bump`, default minor) */
  version?: string;
  bump?: Bump;
  task?: ModelTask;
  modality?: Modality;
  description?: string;
  tags?: string[];
  input_spec: unknown;
  output_spec: unknown;
  metrics?: Record<string, number>;
  params?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  reference_profile?: ReferenceProfile;
  lineage?: Record<string, unknown>;
  actor?: string;
  /** the request's principal, role, id and address, for the audit trail */
  audit?: AuditContext;
  /** set these aliases right after registering, e.g. ['production'] */
  aliases?: Alias[];
}

export interface ChangeOptions {
  actor?: string;
  reason?: string;
  /** the request's principal, role, id and address, for the audit trail */
  audit?: AuditContext;
}

export type RegistryListener = (event: ModelEvent & { model_name: string }) => void;

/** Checks, before anything is recorded, that the runtime can load an artifact with its specs. */
export type ArtifactValidator = (artifact: { sha256: string; path: string }, specs: { input_spec: InputSpec; output_spec: OutputSpec; task: ModelTask }) => Promise<void>;

type Tx = Kysely<Schema> | Transaction<Schema>;

/** The messaging outbox, as the registry uses it: events written in the transaction of the change. */
export interface RegistryOutbox {
  enqueueEvent(tx: Tx, topic: string, type: string, data: Record<string, unknown>, options?: { key?: string | null }): Promise<string>;
}
const parse = <T>(text: string | null, fallback: T): T => (text ? (JSON.parse(text) as T) : fallback);

export class ModelRegistry {
  private readonly listeners: RegistryListener[] = [];

  constructor(
    private readonly database: Database,
    readonly artifacts: ArtifactStore,
    private readonly validateArtifact?: ArtifactValidator,
    /** when given, every model event also goes to `model_events` on the bus (transactional outbox) */
    private readonly outbox?: RegistryOutbox,
    /** when given, every model event also writes an audit row in its transaction */
    private readonly audit?: AuditRecorder,
  ) {}

  private get db() {
    return this.database.db;
  }

  onEvent(listener: RegistryListener): void {
    this.listeners.push(listener);
  }

  // ---------- reads ----------

  async listModels(): Promise<Model[]> {
    const rows = await this.db.selectFrom('models').selectAll().orderBy('name').execute();
    return Promise.all(rows.map((r) => this.toModel(this.db, r)));
  }

  /** A model by id or name. */
  async getModel(ref: string): Promise<Model> {
    return this.toModel(this.db, await this.findModelRow(this.db, ref));
  }

  async listVersions(modelRef: string): Promise<ModelVersion[]> {
    const model = await this.findModelRow(this.db, modelRef);
    const rows = await this.db
      .selectFrom('model_versions')
      .selectAll()
      .where('model_id', '=', model.id)
      .orderBy('major', 'desc')
      .orderBy('minor', 'desc')
      .orderBy('patch', 'desc')
      .execute();
    const aliases = await this.aliasMap(this.db, model.id);
    return rows.map((r) => this.toVersion(r, model.name, aliases));
  }

  /** A version by id, or by model ref plus a version string or alias. */
  async getVersion(ref: string, versionOrAlias?: string): Promise<ModelVersion> {
    const row = await this.findVersionRow(this.db, ref, versionOrAlias);
    const model = await this.findModelRow(this.db, row.model_id);
    return this.toVersion(row, model.name, await this.aliasMap(this.db, model.id));
  }

  /**
   * Resolves what a prediction request names: a version id, `name@alias`, `name:1.2.0`, `name@1.2.0`
   * or a bare model name (its production version).
   */
  async resolve(ref: string): Promise<ModelVersion> {
    const at = ref.lastIndexOf('@');
    const colon = ref.lastIndexOf(':');
    if (at > 0) return this.getVersion(ref.slice(0, at), ref.slice(at + 1));
    if (colon > 0) return this.getVersion(ref.slice(0, colon), ref.slice(colon + 1));
    const byId = await this.db.selectFrom('model_versions').select('id').where('id', '=', ref).executeTakeFirst();
    if (byId) return this.getVersion(byId.id);
    const model = await this.findModelRow(this.db, ref);
    const prod = await this.db
      .selectFrom('model_aliases')
      .select('version_id')
      .where('model_id', '=', model.id)
      .where('alias', '=', 'production')
      .executeTakeFirst();
    if (!prod) {
      throw new VitalsError(
        'MODEL_NOT_LOADED',
        `model "${model.name}" has no production version: promote one, or name a version (${model.name}@1.0.0) or alias (${model.name}@staging)`,
      );
    }
    return this.getVersion(prod.version_id);
  }

  async history(modelRef: string): Promise<ModelEvent[]> {
    const model = await this.findModelRow(this.db, modelRef);
    const rows = await this.db.selectFrom('model_events').selectAll().where('model_id', '=', model.id).orderBy('id').execute();
    const versions = await this.versionNames(model.id);
    return rows.map((r) => ({
      id: r.id,
      model_id: r.model_id,
      action: r.action as ModelEvent['action'],
      alias: r.alias,
      from_version: r.from_version_id ? (versions.get(r.from_version_id) ?? r.from_version_id) : null,
      to_version: r.to_version_id ? (versions.get(r.to_version_id) ?? r.to_version_id) : null,
      actor: r.actor,
      reason: r.reason,
      created_at: r.created_at,
    }));
  }

  /** The artifact bytes of a version, verified against their sha256. */
  async loadArtifact(version: Pick<ModelVersion, 'artifact'>): Promise<Uint8Array> {
    return this.artifacts.get(version.artifact.sha256);
  }

  // ---------- writes ----------

  async register(input: RegisterVersionInput): Promise<ModelVersion> {
    const problems: { field: string; message: string }[] = [];
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(input.name)) {
      problems.push({ field: 'name', message: 'use 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit' });
    }
    const inputSpec = inputSpecSchema.safeParse(input.input_spec);
    if (!inputSpec.success) {
      for (const i of inputSpec.error.issues) problems.push({ field: ['input_spec', ...i.path].join('.'), message: i.message });
    }
    const outputSpec = outputSpecSchema.safeParse(input.output_spec);
    if (!outputSpec.success) {
      for (const i of outputSpec.error.issues) problems.push({ field: ['output_spec', ...i.path].join('.'), message: i.message });
    }
    const explicit = input.version === undefined ? undefined : parseSemver(input.version);
    if (input.version !== undefined && !explicit) {
      problems.push({ field: 'version', message: `"${input.version}" is not a semantic version like 1.2.0` });
    }
    if (input.artifact.byteLength === 0) problems.push({ field: 'artifact', message: 'the ONNX file is empty' });
    for (const alias of input.aliases ?? []) {
      if (!ALIASES.includes(alias)) problems.push({ field: 'aliases', message: `unknown alias "${alias}" (use ${ALIASES.join(', ')})` });
    }
    if (problems.length || !inputSpec.success || !outputSpec.success) throw validationFailed(problems, 'registration rejected');

    const stored = await this.artifacts.put(input.artifact);
    const existingModel = await this.db.selectFrom('models').select('task').where('name', '=', input.name).executeTakeFirst();
    await this.validateArtifact?.(stored, {
      input_spec: inputSpec.data,
      output_spec: outputSpec.data,
      task: (existingModel?.task as ModelTask | undefined) ?? input.task ?? 'classification',
    });
    const actor = input.actor ?? 'system';
    const now = nowIso();
    const modality = input.modality ?? (inputSpec.data.kind === 'image' ? 'image' : 'tabular');

    const { version, events } = await this.db.transaction().execute(async (tx) => {
      let model = await tx.selectFrom('models').selectAll().where('name', '=', input.name).executeTakeFirst();
      if (!model) {
        model = {
          id: uuidv7(),
          name: input.name,
          task: input.task ?? 'classification',
          modality,
          description: input.description ?? null,
          tags: JSON.stringify(input.tags ?? []),
          created_at: now,
          updated_at: now,
        };
        await tx.insertInto('models').values(model).execute();
      } else {
        await this.lockModel(tx, model.id); // versions are numbered one registration at a time
        await tx.updateTable('models').set({ updated_at: now }).where('id', '=', model.id).execute();
      }
      const latest = await tx
        .selectFrom('model_versions')
        .select(['major', 'minor', 'patch'])
        .where('model_id', '=', model.id)
        .orderBy('major', 'desc')
        .orderBy('minor', 'desc')
        .orderBy('patch', 'desc')
        .executeTakeFirst();
      const semver = explicit ?? bumpSemver(latest, input.bump ?? 'minor');
      const versionText = formatSemver(semver);
      const clash = await tx
        .selectFrom('model_versions')
        .select('id')
        .where('model_id', '=', model.id)
        .where('version', '=', versionText)
        .executeTakeFirst();
      if (clash) throw new VitalsError('VERSION_EXISTS', `${input.name} ${versionText} already exists: choose another version or omit it to bump automatically`);

      // content-addressed: the same bytes registered twice (even at once) are one artifact row
      await tx
        .insertInto('artifacts')
        .values({ sha256: stored.sha256, size_bytes: stored.size, media_type: 'application/onnx', created_at: now })
        .onConflict((oc) => oc.column('sha256').doNothing())
        .execute();
      const row = {
        id: uuidv7(),
        model_id: model.id,
        version: versionText,
        ...semver,
        status: 'ready',
        artifact_sha256: stored.sha256,
        artifact_size: stored.size,
        input_spec: JSON.stringify(inputSpec.data),
        output_spec: JSON.stringify(outputSpec.data),
        metrics: JSON.stringify(input.metrics ?? {}),
        params: JSON.stringify(input.params ?? {}),
        metadata: JSON.stringify(input.metadata ?? {}),
        reference_profile: input.reference_profile ? JSON.stringify(input.reference_profile) : null,
        lineage: JSON.stringify(input.lineage ?? {}),
        created_by: actor,
        created_at: now,
      };
      await tx.insertInto('model_versions').values(row).execute();
      const events = [await this.recordEvent(tx, model.id, 'registered', null, null, row.id, actor, null, input.audit)];
      for (const alias of input.aliases ?? []) {
        events.push(await this.moveAlias(tx, model.id, alias, row.id, alias === 'production' ? 'promoted' : 'alias_set', actor, 'set at registration', input.audit));
      }
      return { version: row, events };
    });
    this.emit(events, input.name);
    return this.getVersion(version.id);
  }

  /**
   * Creates a model with no versions yet (the MLflow client creates a registered model before its
   * first version). Refused when the name is taken.
   */
  async createModel(input: { name: string; description?: string | null; task?: ModelTask; modality?: Modality; tags?: string[] }): Promise<Model> {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(input.name)) {
      throw validationFailed([{ field: 'name', message: 'use 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit' }]);
    }
    const now = nowIso();
    const existing = await this.db.selectFrom('models').select('id').where('name', '=', input.name).executeTakeFirst();
    if (existing) throw new VitalsError('CONFLICT', `model "${input.name}" already exists`);
    const row = { id: uuidv7(), name: input.name, task: input.task ?? 'classification', modality: input.modality ?? 'tabular', description: input.description ?? null, tags: JSON.stringify(input.tags ?? []), created_at: now, updated_at: now };
    await this.db.insertInto('models').values(row).execute();
    return this.getModel(row.id);
  }

  async updateModel(ref: string, changes: { description?: string | null }): Promise<Model> {
    const model = await this.findModelRow(this.db, ref);
    await this.db.updateTable('models').set({ description: changes.description ?? null, updated_at: nowIso() }).where('id', '=', model.id).execute();
    return this.getModel(model.id);
  }

  /** Deletes a model that has no versions (versions are archived, never deleted: the prediction log refers to them). */
  async deleteModel(ref: string): Promise<void> {
    const model = await this.findModelRow(this.db, ref);
    const version = await this.db.selectFrom('model_versions').select('version').where('model_id', '=', model.id).executeTakeFirst();
    if (version) throw new VitalsError('CONFLICT', `model "${model.name}" has versions (${version.version}); archive them instead of deleting the model`);
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('model_events').where('model_id', '=', model.id).execute();
      await tx.deleteFrom('models').where('id', '=', model.id).execute();
    });
  }

  /** Points an alias (default production) at a version. Promoting an archived version is refused. */
  async promote(versionId: string, options: ChangeOptions & { alias?: Alias } = {}): Promise<ModelVersion> {
    const alias = options.alias ?? 'production';
    if (!ALIASES.includes(alias)) throw validationFailed([{ field: 'alias', message: `use one of ${ALIASES.join(', ')}` }]);
    const version = await this.findVersionRow(this.db, versionId);
    if (version.status === 'archived') {
      throw new VitalsError('CONFLICT', `version ${version.version} is archived and cannot be promoted; register it again or pick another version`);
    }
    const event = await this.db.transaction().execute((tx) =>
      this.moveAlias(tx, version.model_id, alias, version.id, alias === 'production' ? 'promoted' : 'alias_set', options.actor ?? 'system', options.reason ?? null, options.audit),
    );
    this.emit([event], (await this.findModelRow(this.db, version.model_id)).name);
    return this.getVersion(version.id);
  }

  /**
   * Moves production back: to `toVersion` when given, else to the version production pointed at
   * before the move that installed the current one (archived versions are skipped).
   */
  async rollback(modelRef: string, options: ChangeOptions & { toVersion?: string } = {}): Promise<ModelVersion> {
    const model = await this.findModelRow(this.db, modelRef);
    const event = await this.db.transaction().execute(async (tx) => {
      await this.lockModel(tx, model.id);
      const current = await tx
        .selectFrom('model_aliases')
        .select('version_id')
        .where('model_id', '=', model.id)
        .where('alias', '=', 'production')
        .executeTakeFirst();
      let targetId: string | undefined;
      if (options.toVersion) {
        const target = await this.findVersionRow(tx, model.id, options.toVersion);
        if (target.status === 'archived') throw new VitalsError('CONFLICT', `version ${target.version} is archived; roll back to a live version`);
        targetId = target.id;
      } else {
        if (!current) throw new VitalsError('CONFLICT', `model "${model.name}" has no production version to roll back from`);
        const moves = await tx
          .selectFrom('model_events')
          .select(['from_version_id', 'to_version_id'])
          .where('model_id', '=', model.id)
          .where('alias', '=', 'production')
          .orderBy('id', 'desc')
          .execute();
        const archived = new Set(
          (await tx.selectFrom('model_versions').select('id').where('model_id', '=', model.id).where('status', '=', 'archived').execute()).map((r) => r.id),
        );
        // Walk back through the moves that led to the current version.
        let cursor = current.version_id;
        for (const move of moves) {
          if (move.to_version_id !== cursor || !move.from_version_id) continue;
          cursor = move.from_version_id;
          if (cursor !== current.version_id && !archived.has(cursor)) {
            targetId = cursor;
            break;
          }
        }
        if (!targetId) throw new VitalsError('CONFLICT', `model "${model.name}" has no earlier production version; name one with to_version`);
      }
      if (current?.version_id === targetId) throw new VitalsError('CONFLICT', 'that version is already in production');
      return this.moveAlias(tx, model.id, 'production', targetId, 'rolled_back', options.actor ?? 'system', options.reason ?? null, options.audit);
    });
    this.emit([event], model.name);
    return this.getVersion(event.to_version_id!);
  }

  /** Archives a version and removes its aliases. The production version must be replaced first. */
  async archive(versionId: string, options: ChangeOptions = {}): Promise<ModelVersion> {
    const version = await this.findVersionRow(this.db, versionId);
    const events = await this.db.transaction().execute(async (tx) => {
      await this.lockModel(tx, version.model_id);
      const aliases = await tx.selectFrom('model_aliases').select('alias').where('version_id', '=', version.id).execute();
      if (aliases.some((a) => a.alias === 'production')) {
        throw new VitalsError('CONFLICT', `version ${version.version} is in production: promote another version or roll back before archiving it`);
      }
      const out: StoredEvent[] = [];
      for (const { alias } of aliases) {
        await tx.deleteFrom('model_aliases').where('model_id', '=', version.model_id).where('alias', '=', alias).execute();
        out.push(await this.recordEvent(tx, version.model_id, 'alias_removed', alias, version.id, null, options.actor ?? 'system', 'version archived', options.audit));
      }
      await tx.updateTable('model_versions').set({ status: 'archived' }).where('id', '=', version.id).execute();
      out.push(await this.recordEvent(tx, version.model_id, 'archived', null, version.id, null, options.actor ?? 'system', options.reason ?? null, options.audit));
      return out;
    });
    this.emit(events, (await this.findModelRow(this.db, version.model_id)).name);
    return this.getVersion(version.id);
  }

  async removeAlias(modelRef: string, alias: Alias, options: ChangeOptions = {}): Promise<void> {
    const model = await this.findModelRow(this.db, modelRef);
    const event = await this.db.transaction().execute(async (tx) => {
      await this.lockModel(tx, model.id);
      const row = await tx.selectFrom('model_aliases').select('version_id').where('model_id', '=', model.id).where('alias', '=', alias).executeTakeFirst();
      if (!row) throw notFound(`alias "${alias}" of model "${model.name}"`);
      await tx.deleteFrom('model_aliases').where('model_id', '=', model.id).where('alias', '=', alias).execute();
      return this.recordEvent(tx, model.id, 'alias_removed', alias, row.version_id, null, options.actor ?? 'system', options.reason ?? null, options.audit);
    });
    this.emit([event], model.name);
  }

  // ---------- internals ----------

  /**
   * Serialises changes to one model's aliases across connections: on PostgreSQL a row lock on the
   * model (held to the end of the transaction), so the `from` of every recorded move is the version
   * that really was there. SQLite runs one write transaction at a time already.
   */
  private async lockModel(tx: Tx, modelId: string): Promise<void> {
    if (this.database.dialect !== 'postgres') return;
    await tx.selectFrom('models').select('id').where('id', '=', modelId).forUpdate().execute();
  }

  private async moveAlias(tx: Tx, modelId: string, alias: Alias, versionId: string, action: ModelEvent['action'], actor: string, reason: string | null, audit?: AuditContext) {
    await this.lockModel(tx, modelId);
    const current = await tx
      .selectFrom('model_aliases')
      .select('version_id')
      .where('model_id', '=', modelId)
      .where('alias', '=', alias)
      .executeTakeFirst();
    const now = nowIso();
    if (current) {
      await tx.updateTable('model_aliases').set({ version_id: versionId, updated_at: now }).where('model_id', '=', modelId).where('alias', '=', alias).execute();
    } else {
      await tx.insertInto('model_aliases').values({ model_id: modelId, alias, version_id: versionId, updated_at: now }).execute();
    }
    return this.recordEvent(tx, modelId, action, alias, current?.version_id ?? null, versionId, actor, reason, audit);
  }

  private async recordEvent(
    tx: Tx,
    modelId: string,
    action: ModelEvent['action'],
    alias: string | null,
    from: string | null,
    to: string | null,
    actor: string,
    reason: string | null,
    audit?: AuditContext,
  ): Promise<StoredEvent> {
    const row = { id: uuidv7(), model_id: modelId, action, alias, from_version_id: from, to_version_id: to, actor, reason, created_at: nowIso() };
    await tx.insertInto('model_events').values(row).execute();
    if (!this.outbox && !this.audit) return row;
    const model = await tx.selectFrom('models').select('name').where('id', '=', modelId).executeTakeFirst();
    const ids = [from, to].filter((v): v is string => !!v);
    const versions = ids.length ? await tx.selectFrom('model_versions').select(['id', 'version']).where('id', 'in', ids).execute() : [];
    const name = (id: string | null) => (id ? (versions.find((v) => v.id === id)?.version ?? null) : null);
    if (this.audit) {
      // The audit row names the model (and the version it concerns) so that it reads without joins.
      const target = `model:${model?.name ?? modelId}${name(to ?? from) ? `@${name(to ?? from)}` : ''}`;
      await this.audit.record(tx, {
        action: `model.${action}`,
        target,
        reason,
        actor,
        context: audit,
        details: { model_id: modelId, alias, from_version: name(from), to_version: name(to), from_version_id: from, to_version_id: to, event_id: row.id },
      });
    }
    if (this.outbox) {
      await this.outbox.enqueueEvent(
        tx,
        'model_events',
        `model.${action}`,
        { ...row, model_name: model?.name ?? null, from_version: name(from), to_version: name(to) },
        { key: modelId },
      );
    }
    return row;
  }

  private emit(events: StoredEvent[], modelName: string): void {
    if (!this.listeners.length) return;
    void (async () => {
      const names = await this.versionNames(events[0]!.model_id);
      for (const e of events) {
        const event = {
          id: e.id,
          model_id: e.model_id,
          model_name: modelName,
          action: e.action,
          alias: e.alias,
          from_version: e.from_version_id ? (names.get(e.from_version_id) ?? null) : null,
          to_version: e.to_version_id ? (names.get(e.to_version_id) ?? null) : null,
          actor: e.actor,
          reason: e.reason,
          created_at: e.created_at,
        };
        for (const l of this.listeners) l(event);
      }
    })().catch(() => undefined);
  }

  private async versionNames(modelId: string): Promise<Map<string, string>> {
    const rows = await this.db.selectFrom('model_versions').select(['id', 'version']).where('model_id', '=', modelId).execute();
    return new Map(rows.map((r) => [r.id, r.version]));
  }

  private async findModelRow(tx: Tx, ref: string): Promise<Selectable<ModelsTable>> {
    const row = await tx.selectFrom('models').selectAll().where((eb) => eb.or([eb('id', '=', ref), eb('name', '=', ref)])).executeTakeFirst();
    if (!row) throw notFound(`model "${ref}"`, 'MODEL_NOT_FOUND');
    return row;
  }

  private async findVersionRow(tx: Tx, ref: string, versionOrAlias?: string): Promise<Selectable<ModelVersionsTable>> {
    if (versionOrAlias === undefined) {
      const row = await tx.selectFrom('model_versions').selectAll().where('id', '=', ref).executeTakeFirst();
      if (!row) throw notFound(`model version "${ref}"`, 'VERSION_NOT_FOUND');
      return row;
    }
    const model = await this.findModelRow(tx, ref);
    if ((ALIASES as readonly string[]).includes(versionOrAlias)) {
      const alias = await tx
        .selectFrom('model_aliases')
        .select('version_id')
        .where('model_id', '=', model.id)
        .where('alias', '=', versionOrAlias)
        .executeTakeFirst();
      if (!alias) throw notFound(`alias "${versionOrAlias}" of model "${model.name}"`, 'VERSION_NOT_FOUND');
      return this.findVersionRow(tx, alias.version_id);
    }
    const semver = parseSemver(versionOrAlias);
    const row = await tx
      .selectFrom('model_versions')
      .selectAll()
      .where('model_id', '=', model.id)
      .where((eb) => (semver ? eb('version', '=', formatSemver(semver)) : eb('id', '=', versionOrAlias)))
      .executeTakeFirst();
    if (!row) throw notFound(`version "${versionOrAlias}" of model "${model.name}"`, 'VERSION_NOT_FOUND');
    return row;
  }

  private async aliasMap(tx: Tx, modelId: string): Promise<Map<string, Alias[]>> {
    const rows = await tx.selectFrom('model_aliases').select(['alias', 'version_id']).where('model_id', '=', modelId).execute();
    const map = new Map<string, Alias[]>();
    for (const r of rows) map.set(r.version_id, [...(map.get(r.version_id) ?? []), r.alias as Alias]);
    return map;
  }

  private async toModel(tx: Tx, row: Selectable<ModelsTable>): Promise<Model> {
    const aliases = await tx
      .selectFrom('model_aliases')
      .innerJoin('model_versions', 'model_versions.id', 'model_aliases.version_id')
      .select(['model_aliases.alias', 'model_versions.version'])
      .where('model_aliases.model_id', '=', row.id)
      .execute();
    return {
      id: row.id,
      name: row.name,
      task: row.task as ModelTask,
      modality: row.modality as Modality,
      description: row.description,
      tags: parse(row.tags, []),
      aliases: Object.fromEntries(aliases.map((a) => [a.alias, a.version])),
      created_at: row.created_at,
      updated_at: row.updated_at,
    };
  }

  private toVersion(row: Selectable<ModelVersionsTable>, modelName: string, aliases: Map<string, Alias[]>): ModelVersion {
    return {
      id: row.id,
      model_id: row.model_id,
      model_name: modelName,
      version: row.version,
      status: row.status as VersionStatus,
      aliases: aliases.get(row.id) ?? [],
      artifact: { sha256: row.artifact_sha256, size: Number(row.artifact_size) },
      input_spec: parse(row.input_spec, {} as InputSpec),
      output_spec: parse(row.output_spec, {} as OutputSpec),
      metrics: parse(row.metrics, {}),
      params: parse(row.params, {}),
      metadata: parse(row.metadata, {}),
      lineage: parse(row.lineage, {}),
      created_by: row.created_by,
      created_at: row.created_at,
    };
  }

  /** The stored training-data profile of a version (kept out of ModelVersion: it can be large). */
  async referenceProfile(versionId: string): Promise<ReferenceProfile | null> {
    const row = await this.db.selectFrom('model_versions').select('reference_profile').where('id', '=', versionId).executeTakeFirst();
    if (!row) throw notFound(`model version "${versionId}"`, 'VERSION_NOT_FOUND');
    return parse(row.reference_profile, null);
  }
}

type StoredEvent = ModelEventsTable & { action: ModelEvent['action'] };
