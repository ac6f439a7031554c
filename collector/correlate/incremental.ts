// Incremental correlation: the store's correlation inputs kept in memory, and each rule's results kept by what they
// depend on, so a report re-correlates only what it touched:
// - node rules (the attack paths on one node's facts, and those joined with the Kubernetes API's picture): that
//   node's results, when its facts changed (every node's when the picture changed);
// - drift: the (role set, finding id) groups whose rows changed (a node's setting, its role set, its severity);
// - unmonitored peers: over every node's listeners and host-naming settings, when a node's changed or one came or went;
// - silent nodes and the score (node summaries and per-check counts): each pass (cheap).
// refresh() reads the store again in full (at leadership start, and every repair interval); update(nodes) reads only
// those nodes. Both give the same result as correlate() over a fresh read (test/unit/collector/correlate-incremental).
import type { ClusterSnapshot } from '../cluster/model.js';
import { roleKey } from '../store/rows.js';
import type { CheckRecord, NodeRecord, SettingRow, Store, StoredFinding } from '../store/types.js';
import { ATTACK_PATH_RULES } from './attack-paths.js';
import { CLUSTER_PATH_RULES } from './cluster-paths.js';
import { COVERAGE_RULES, isPeerInput } from './coverage.js';
import { driftRule } from './drift.js';
import { FACT_INPUTS, FACT_SELECTOR } from './facts.js';
import { sortCorrelations } from './rules.js';
import { computeScore, type ClusterScore } from './score.js';
import type { ClusterState, Correlation, CorrelationRule } from './types.js';

/** Rules whose every correlation rests on one node's facts (and the Kubernetes API's picture) only. */
const NODE_RULES: readonly CorrelationRule[] = [...ATTACK_PATH_RULES, ...CLUSTER_PATH_RULES];
const rule = (id: string): CorrelationRule => COVERAGE_RULES.find((r) => r.id === id)!;
/** Over every node's record, each pass. */
const SILENT_NODE = rule('silent-node');
/** Over every node's record and listeners and host-naming settings (isPeerInput). */
const UNMONITORED_PEER = rule('unmonitored-peer');

const byKey = <T>(key: (t: T) => string) => (a: T, b: T): number => { const x = key(a); const y = key(b); return x < y ? -1 : x > y ? 1 : 0; };
const settingOrder = byKey<SettingRow>((r) => `${r.node}\u0000${r.findingId}`);
/** A drift group holds one row per node. */
const groupOrder = (a: SettingRow, b: SettingRow): number => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0);
const nodeOrder = byKey<NodeRecord>((n) => n.name);

/** What drift compares of a setting row: a change here changes its group's result. */
const settingKey = (r: SettingRow): string => `${r.checkId}\u0000${r.status}\u0000${r.severity}\u0000${r.valueKey ?? ''}`;
/** What a node rule reads of a fact. */
const factKey = (f: StoredFinding): string => JSON.stringify(f.finding);
const groupKey = (role: string, findingId: string): string => `${role}\u0000${findingId}`;

interface CorrelationResult {
  items: Correlation[];
  score: ClusterScore;
}

interface CorrelatorOptions {
  silentAfterMs: number;
  cluster?: () => ClusterSnapshot | undefined;
  /**
   * Every node's last report and role set (what changes without a finding changing) is read again at most this
   * often (default 1 s: silence is a matter of minutes); 0: on every update.
   */
  headsEveryMs?: number;
}

const HEADS_EVERY_MS = 1_000;
/** How many nodes or drift groups a full pass evaluates between two turns of the event loop. */
const YIELD_EVERY = 200;
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class IncrementalCorrelator {
  private nodes = new Map<string, NodeRecord>();
  private facts = new Map<string, StoredFinding[]>();
  private settings = new Map<string, SettingRow[]>();
  private checks: CheckRecord[] = [];
  private checkTitles = new Map<string, string>();
  private readonly nodeResults = new Map<string, Correlation[]>();
  /** Drift rows by group, each group's rows by node. */
  private readonly groups = new Map<string, Map<string, SettingRow>>();
  private readonly driftResults = new Map<string, Correlation[]>();
  /** Each node's facts unmonitored-peer reads, and its result (undefined: to be computed again). */
  private readonly peerFacts = new Map<string, StoredFinding[]>();
  private peerResults: Correlation[] | undefined;
  /** The Kubernetes API's picture the node rules were evaluated with. */
  private snapshot: ClusterSnapshot | undefined;
  private loaded = false;
  /** When every node's head was last read (monotonic clock). */
  private headsAt = -Infinity;

  constructor(private readonly store: Store, private readonly opts: CorrelatorOptions) {}

  get ready(): boolean {
    return this.loaded;
  }

  /** Reads every input again and recomputes every rule (repair). */
  async refresh(now: number): Promise<CorrelationResult> {
    const [nodes, facts, settings, checks] = await Promise.all([
      this.store.allNodes(), this.store.facts(FACT_SELECTOR), this.store.settings([...FACT_INPUTS.driftResourceKinds]), this.store.checks(),
    ]);
    this.nodes = new Map(nodes.sort(nodeOrder).map((n) => [n.name, n]));
    this.facts = groupByNode(facts);
    this.settings = groupByNode(settings);
    this.setChecks(checks);
    this.snapshot = this.opts.cluster?.();
    this.peerFacts.clear();
    for (const [name, list] of this.facts) this.peerFacts.set(name, list.filter(isPeerInput));
    this.peerResults = undefined;
    this.nodeResults.clear();
    let n = 0;
    // A full pass over thousands of nodes yields now and then: REST and /healthz keep answering while it runs.
    for (const name of this.nodes.keys()) {
      this.evaluateNode(name);
      if (++n % YIELD_EVERY === 0) await yieldToEventLoop();
    }
    this.headsAt = performance.now();
    this.groups.clear();
    for (const [node, rows] of this.settings) for (const r of rows) this.groupOf(this.roleOf(node), r.findingId).set(node, r);
    this.driftResults.clear();
    for (const key of [...this.groups.keys()]) {
      this.evaluateGroup(key);
      if (++n % YIELD_EVERY === 0) await yieldToEventLoop();
    }
    this.loaded = true;
    return this.result(now);
  }

  /**
   * Reads again only what these nodes hold (their records, facts and settings) and (at most every headsEveryMs) every
   * node's last report and role set; re-evaluates what changed. Before the first refresh() it is a refresh().
   */
  async update(touched: Iterable<string>, now: number): Promise<CorrelationResult> {
    if (!this.loaded) return this.refresh(now);
    const names = new Set(touched);
    const heads = performance.now() - this.headsAt >= (this.opts.headsEveryMs ?? HEADS_EVERY_MS) ? await this.store.nodeHeads() : [];
    if (heads.length) this.headsAt = performance.now();
    for (const h of heads) {
      const known = this.nodes.get(h.name);
      if (!known || roleKey(known.roles) !== h.roleKey) names.add(h.name);
      else if (known.lastReport !== h.lastReport) this.nodes.set(h.name, { ...known, lastReport: h.lastReport });
    }
    const list = [...names];
    const [records, facts, settings, checks] = await Promise.all([
      this.store.nodesNamed(list), this.store.factsOf(FACT_SELECTOR, list),
      this.store.settingsOf([...FACT_INPUTS.driftResourceKinds], list), this.store.checks(),
    ]);
    const titlesChanged = this.setChecks(checks);
    const newFacts = groupByNode(facts);
    const newSettings = groupByNode(settings);
    const found = new Map(records.map((n) => [n.name, n]));
    const dirtyGroups = new Set<string>();
    let added = false;
    const snapshot = this.opts.cluster?.();
    const pictureChanged = snapshot !== this.snapshot;
    this.snapshot = snapshot;
    for (const name of list) {
      const before = this.nodes.get(name);
      const after = found.get(name);
      if (after) {
        if (!before) added = true;
        this.nodes.set(name, after);
      } else {
        this.nodes.delete(name);
      }
      if (!before || !after || JSON.stringify(before.info) !== JSON.stringify(after.info)) this.peerResults = undefined;
      const oldRole = before ? roleKey(before.roles) : undefined;
      const newRole = after ? roleKey(after.roles) : undefined;
      if (changedFacts(this.facts.get(name), newFacts.get(name))) {
        setOrDelete(this.facts, name, newFacts.get(name));
        const peers = newFacts.get(name)?.filter(isPeerInput);
        if (changedFacts(this.peerFacts.get(name), peers)) this.peerResults = undefined;
        setOrDelete(this.peerFacts, name, peers?.length ? peers : undefined);
        if (!pictureChanged) this.evaluateNode(name);
      }
      const oldRows = this.settings.get(name) ?? [];
      const newRows = newSettings.get(name) ?? [];
      setOrDelete(this.settings, name, newSettings.get(name));
      const oldByFid = new Map(oldRows.map((r) => [r.findingId, r]));
      const newByFid = new Map(newRows.map((r) => [r.findingId, r]));
      for (const [fid, r] of oldByFid) {
        const next = newByFid.get(fid);
        if (oldRole !== newRole || !next || settingKey(next) !== settingKey(r)) {
          const key = groupKey(oldRole ?? 'none', fid);
          this.groups.get(key)?.delete(name);
          dirtyGroups.add(key);
        }
      }
      for (const [fid, r] of newByFid) {
        const prev = oldByFid.get(fid);
        if (oldRole !== newRole || !prev || settingKey(prev) !== settingKey(r)) {
          const key = groupKey(newRole ?? 'none', fid);
          this.groupOf(newRole ?? 'none', fid).set(name, r);
          dirtyGroups.add(key);
        }
      }
    }
    if (added) this.nodes = new Map([...this.nodes.values()].sort(nodeOrder).map((n) => [n.name, n]));
    if (titlesChanged || pictureChanged) {
      // Titles are in every correlation's text; the API's picture joins every node's facts.
      this.nodeResults.clear();
      for (const name of this.facts.keys()) this.evaluateNode(name);
    }
    if (titlesChanged) for (const key of this.groups.keys()) dirtyGroups.add(key);
    for (const key of dirtyGroups) this.evaluateGroup(key);
    return this.result(now);
  }

  private setChecks(checks: CheckRecord[]): boolean {
    this.checks = checks;
    const titles = new Map(checks.map((c) => [c.checkId, c.title]));
    const changed = titles.size !== this.checkTitles.size || [...titles].some(([id, t]) => this.checkTitles.get(id) !== t);
    this.checkTitles = titles;
    return changed;
  }

  private roleOf(node: string): string {
    const n = this.nodes.get(node);
    return n ? roleKey(n.roles) : 'none';
  }

  private groupOf(role: string, findingId: string): Map<string, SettingRow> {
    const key = groupKey(role, findingId);
    let group = this.groups.get(key);
    if (!group) this.groups.set(key, (group = new Map()));
    return group;
  }

  private state(parts: Pick<ClusterState, 'nodes' | 'facts' | 'settings'>, now = 0): ClusterState {
    const cluster = this.snapshot;
    return { now, silentAfterMs: this.opts.silentAfterMs, checkTitles: this.checkTitles, ...parts, ...(cluster ? { cluster } : {}) };
  }

  private evaluateNode(name: string): void {
    const facts = this.facts.get(name);
    const out = facts?.length ? NODE_RULES.flatMap((r) => r.evaluate(this.state({ nodes: [], facts, settings: [] }))) : [];
    setOrDelete(this.nodeResults, name, out.length ? out : undefined);
  }

  private evaluateGroup(key: string): void {
    const group = this.groups.get(key);
    if (!group || group.size === 0) {
      this.groups.delete(key);
      this.driftResults.delete(key);
      return;
    }
    const rows = [...group.values()].sort(groupOrder);
    const nodes = rows.map((r) => this.nodes.get(r.node)).filter((n): n is NodeRecord => n !== undefined);
    const out = driftRule.evaluate(this.state({ nodes, facts: [], settings: rows }));
    setOrDelete(this.driftResults, key, out.length ? out : undefined);
  }

  private result(now: number): CorrelationResult {
    const nodes = [...this.nodes.values()];
    if (!this.peerResults) {
      // In node order, then id order: as the full read gives them (the rule lists nodes in the order it meets them).
      const facts = [...this.peerFacts.keys()].sort().flatMap((name) => this.peerFacts.get(name)!);
      this.peerResults = UNMONITORED_PEER.evaluate(this.state({ nodes, facts, settings: [] }, now));
    }
    const silent = SILENT_NODE.evaluate(this.state({ nodes, facts: [], settings: [] }, now));
    const items = sortCorrelations([...[...this.driftResults.values()].flat(), ...[...this.nodeResults.values()].flat(),
      ...this.peerResults, ...silent]);
    return { items, score: computeScore(nodes, this.checks) };
  }
}

/** Rows by node, each node's rows in id order (every path reads them in the same order, so results compare equal). */
function groupByNode<T extends StoredFinding | SettingRow>(rows: T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const r of rows) {
    let list = out.get(r.node);
    if (!list) out.set(r.node, (list = []));
    list.push(r);
  }
  for (const list of out.values()) list.sort((a, b) => (factOrSettingId(a) < factOrSettingId(b) ? -1 : factOrSettingId(a) > factOrSettingId(b) ? 1 : 0));
  return out;
}

const factOrSettingId = (r: StoredFinding | SettingRow): string => ('finding' in r ? r.finding.id : r.findingId);

function changedFacts(before: StoredFinding[] | undefined, after: StoredFinding[] | undefined): boolean {
  if ((before?.length ?? 0) !== (after?.length ?? 0)) return true;
  return (before ?? []).some((f, i) => factKey(f) !== factKey(after![i]));
}

function setOrDelete<K, V>(map: Map<K, V>, key: K, value: V | undefined): void {
  if (value === undefined) map.delete(key);
  else map.set(key, value);
}
