// The protocol's constants against the engine's C++ (no native build needed): the error codes of
// src/errors.h and the stop reasons of src/engine.cpp are the ones host/protocol.ts declares.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { packageRoot } from '../../../engine-native/host/native';
import {
  describeEngineProcess,
  ErrorCodes,
  Notifications,
  Requests,
  STOP_REASONS,
  type EngineStatus,
} from '../../../engine-native/host/protocol';

const source = (file: string) => readFileSync(path.join(packageRoot(), 'engine-native', 'src', file), 'utf8');
const pascal = (screaming: string) => screaming.toLowerCase().replace(/(^|_)([a-z])/g, (_m, _s, c: string) => c.toUpperCase());

test('every SX_ERR_NAME of errors.h is ErrorCodes.Name with the same code', () => {
  const codes = [...source('errors.h').matchAll(/^\s*SX_ERR_(\w+)\s*=\s*(-\d+),/gm)].map((m) => [pascal(m[1]), Number(m[2])] as const);
  assert.ok(codes.length >= 10, `found only ${codes.length} codes in errors.h`);
  for (const [name, code] of codes) {
    assert.equal((ErrorCodes as Record<string, number>)[name], code, `SX_ERR for ${name}`);
  }
  const values = Object.values(ErrorCodes);
  assert.equal(new Set(values).size, values.length, 'two error names share a code');
});

test('the engine names exactly the stop reasons the protocol declares', () => {
  const names = [...source('engine.cpp').matchAll(/case SX_STOP_\w+:\s*return "(\w+)";/g)].map((m) => m[1]);
  assert.deepEqual([...names].sort(), [...STOP_REASONS].sort());
});

test('method names are unique and requests and notifications do not share one', () => {
  const methods = [...Object.values(Requests), ...Object.values(Notifications)].map((t) => t.method);
  assert.equal(new Set(methods).size, methods.length);
});

test('the engine process as Show Stats and the tooltip name it: shared or own, windows, PID, memory, uptime', () => {
  const status: EngineStatus = {
    pid: 4242,
    shared: true,
    clients: 3,
    uptimeMs: 83 * 60_000 + 5_000,
    memory: { rssBytes: 1.61e9, pssBytes: 0.62e9 },
    activity: { generating: false, heartbeat: 0 },
  };
  assert.equal(describeEngineProcess(status), 'shared by 3 windows, pid 4242, 1.61 GB resident (PSS 0.62 GB), up 1 h 23 min');
  assert.equal(
    describeEngineProcess({ ...status, shared: false, clients: 1, uptimeMs: 59_000, memory: { rssBytes: 5e8, pssBytes: null } }),
    "this window's own, pid 4242, 0.50 GB resident, up 0 min",
  );
  assert.match(describeEngineProcess({ ...status, clients: 1 }), /^shared by 1 window,/);
});
