// The calls a web back end (and Studio) makes with @langchain/langgraph-sdk, against a running `nexa serve`.
// Run by tests/integration/server/test_js_sdk.py, which starts the server and asserts on the JSON printed here.
// Environment: NEXA_URL, NEXA_API_KEY, NEXA_TEST_HOLD_FILE (while it exists, "slow" sections wait), NEXA_TOPIC.
import { existsSync, unlinkSync, writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

import { Client } from "@langchain/langgraph-sdk";

const client = new Client({ apiUrl: process.env.NEXA_URL, apiKey: process.env.NEXA_API_KEY });
const topic = process.env.NEXA_TOPIC;
const quick = { max_iterations: 1, max_sections: 4 };
const holdFile = process.env.NEXA_TEST_HOLD_FILE;

async function waitForStatus(threadId, runId, statuses) {
  for (let i = 0; i < 300; i += 1) {
    const run = await client.runs.get(threadId, runId);
    if (statuses.includes(run.status)) return run.status;
    await sleep(100);
  }
  throw new Error(`run ${runId} never reached ${statuses}`);
}

async function assistantCalls() {
  const [assistant] = await client.assistants.search({ graphId: "nexa_research", limit: 10 });
  const graph = await client.assistants.getGraph(assistant.assistant_id, { xray: true });
  const schemas = await client.assistants.getSchemas(assistant.assistant_id);
  const subgraphs = await client.assistants.getSubgraphs(assistant.assistant_id);
  const versions = await client.assistants.getVersions(assistant.assistant_id);
  return {
    assistant_id: assistant.assistant_id,
    graph_nodes: graph.nodes.map((n) => n.id),
    context_knobs: Object.keys(schemas.context_schema.properties),
    state_keys: Object.keys(schemas.state_schema.properties),
    subgraphs: Object.keys(subgraphs),
    versions: versions.map((v) => v.version),
  };
}

async function streamStateHistorySearch() {
  const thread = await client.threads.create({ metadata: { owner: "js-sdk" } });
  const parts = [];
  for await (const part of client.runs.stream(thread.thread_id, "nexa_research", {
    input: { topic }, context: quick, streamMode: ["values", "updates", "custom"],
  })) {
    parts.push(part);
  }
  const values = parts.filter((p) => p.event === "values");
  const state = await client.threads.getState(thread.thread_id);
  const history = await client.threads.getHistory(thread.thread_id, { limit: 50 });
  const found = await client.threads.search({ metadata: { owner: "js-sdk" }, limit: 10 });
  return {
    thread_id: thread.thread_id,
    first_event: parts[0].event,
    events: [...new Set(parts.map((p) => p.event))].sort(),
    updated_nodes: parts.filter((p) => p.event === "updates").flatMap((p) => Object.keys(p.data)),
    progress_titles: [...new Set(parts.filter((p) => p.event === "custom" && p.data.kind === "section_progress")
      .map((p) => p.data.title))].sort(),
    last_values_sections: values[values.length - 1].data.report.sections.map((s) => s.title),
    state_sections: state.values.report.sections.map((s) => s.title),
    state_next: state.next,
    history_length: history.length,
    history_head_is_state: history[0].checkpoint.checkpoint_id === state.checkpoint.checkpoint_id,
    history_tail_next: history[history.length - 1].next,
    search_ids: found.map((t) => t.thread_id),
    thread_status: (await client.threads.get(thread.thread_id)).status,
  };
}

async function cancelRun() {
  writeFileSync(holdFile, "");
  try {
    const thread = await client.threads.create();
    const run = await client.runs.create(thread.thread_id, "nexa_research", { input: { topic }, context: quick });
    const before = await waitForStatus(thread.thread_id, run.run_id, ["running"]);
    await client.runs.cancel(thread.thread_id, run.run_id);
    const after = await waitForStatus(thread.thread_id, run.run_id, ["interrupted", "success", "error"]);
    return { before, after };
  } finally {
    if (existsSync(holdFile)) unlinkSync(holdFile);
  }
}

async function reconnect() {
  const thread = await client.threads.create();
  const first = [];
  for await (const part of client.runs.stream(thread.thread_id, "nexa_research", {
    input: { topic }, context: quick, streamMode: ["updates", "custom"], streamResumable: true,
  })) {
    first.push(part);
    if (first.length === 5) break; // the client goes away mid-run
  }
  const runId = first[0].data.run_id;
  const rest = [];
  for await (const part of client.runs.joinStream(thread.thread_id, runId, {
    lastEventId: first[first.length - 1].id, streamMode: ["updates", "custom"],
  })) {
    rest.push(part);
  }
  const all = [...first, ...rest];
  const last = all[all.length - 1];
  return {
    ids: all.map((p) => p.id),
    last_event: last.event,
    last_nodes: last.event === "updates" ? Object.keys(last.data) : [],
    status: (await client.runs.get(thread.thread_id, runId)).status,
  };
}

async function threadStreamAndPatch() {
  const thread = await client.threads.create();
  const run = await client.runs.create(thread.thread_id, "nexa_research", { input: { topic }, context: quick });
  const lifecycle = [];
  const leave = new AbortController(); // the thread's stream stays open until the client leaves
  try {
    for await (const part of client.threads.joinStream(thread.thread_id, {
      lastEventId: "-", streamMode: "lifecycle", signal: leave.signal,
    })) {
      lifecycle.push(part.data);
      if (part.data.status === "run_done") break;
    }
  } finally {
    leave.abort();
  }
  const before = await client.threads.getState(thread.thread_id);
  await client.threads.patchState(thread.thread_id, { label: "js" });
  const after = await client.threads.getState(thread.thread_id);
  return {
    run_id: run.run_id,
    lifecycle,
    label: after.metadata.label ?? null,
    same_checkpoint: after.checkpoint.checkpoint_id === before.checkpoint.checkpoint_id,
  };
}

async function storeCalls() {
  await client.store.putItem(["js", "memories"], "k1", { text: "hello", n: 1 });
  await client.store.putItem(["js", "memories"], "k2", { text: "bye", n: 2 });
  await client.store.putItem(["js", "notes"], "k3", { text: "note", n: 3 });
  const got = await client.store.getItem(["js", "memories"], "k1");
  const filtered = await client.store.searchItems(["js"], { filter: { n: 2 } });
  const all = await client.store.searchItems(["js"], { limit: 10 });
  const namespaces = await client.store.listNamespaces({ prefix: ["js"] });
  await client.store.deleteItem(["js", "memories"], "k1");
  const gone = await client.store.getItem(["js", "memories"], "k1");
  return {
    got: { namespace: got.namespace, key: got.key, value: got.value, has_dates: Boolean(got.createdAt && got.updatedAt) },
    filtered: filtered.items.map((i) => i.key),
    all: all.items.map((i) => i.key).sort(),
    namespaces: namespaces.namespaces,
    gone,
  };
}

try {
  const results = {
    assistants: await assistantCalls(),
    run: await streamStateHistorySearch(),
    cancel: await cancelRun(),
    reconnect: await reconnect(),
    store: await storeCalls(),
    thread: await threadStreamAndPatch(),
  };
  process.stdout.write(`${JSON.stringify(results)}\n`);
} catch (error) {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
}
