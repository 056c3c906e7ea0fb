#!/usr/bin/env node
// The Open Inference Protocol's gRPC service, tested with a client this project did not write: Node's @grpc/grpc-js
// and @grpc/proto-loader loading the specification's open_inference_grpc.proto as it is.
// Run by tests/MlModels.Server.Tests/GrpcNodeClientTests.cs against servers it starts on the fixtures:
//   node v2_client.js '{"linear": "127.0.0.1:PORT", "identity": ..., "half": ..., "tensor": ..., "multi": ...,
//                       "classifier": ..., "secured": ...}' [case-name-regex]
// Every case is one RPC or a few, with its expected answer or gRPC status; one JSON line per case on stdout,
// {"case", "ok", "detail"}, then a summary line {"ran", "failed", "skipped"}; a case whose model has no server in the
// map is skipped and named. The exit code is the number of failed cases (0: all passed).
'use strict';
const path = require('path');
const grpc = require('@grpc/grpc-js');
const loader = require('@grpc/proto-loader');

const targets = JSON.parse(process.argv[2] || '{}');
const filter = new RegExp(process.argv[3] || '');
// The specification's file as the server is built from it (src/MlModels.Server/Protos/SOURCE.md says where it comes from).
const proto = path.join(__dirname, '..', '..', 'src', 'MlModels.Server', 'Protos', 'open_inference_grpc.proto');
const definition = loader.loadSync(proto, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
const inference = grpc.loadPackageDefinition(definition).inference;
const clients = {};
function client(model) {
  if (!targets[model]) throw new Error(`no server for '${model}'`);
  return (clients[model] ??= new inference.GRPCInferenceService(targets[model], grpc.credentials.createInsecure()));
}
function call(model, rpc, request, metadata) {
  return new Promise((resolve) => {
    const deadline = new Date(Date.now() + 30000);
    client(model)[rpc](request, metadata || new grpc.Metadata(), { deadline }, (error, answer) => resolve({ error, answer }));
  });
}

// ---- assertions -------------------------------------------------------------------------------------------------
class Failure extends Error {}
function eq(actual, expected, what) {
  const a = JSON.stringify(actual), e = JSON.stringify(expected);
  if (a !== e) throw new Failure(`${what}: expected ${e}, got ${a}`);
}
function ok(answer, what) {
  if (answer.error) throw new Failure(`${what}: expected an answer, got ${grpc.status[answer.error.code]}: ${answer.error.details}`);
  return answer.answer;
}
function status(answer, code, fragment, what) {
  if (!answer.error) throw new Failure(`${what}: expected ${code}, got an answer ${JSON.stringify(answer.answer).slice(0, 300)}`);
  const got = grpc.status[answer.error.code];
  if (got !== code) throw new Failure(`${what}: expected ${code}, got ${got}: ${answer.error.details}`);
  if (fragment && !answer.error.details.includes(fragment))
    throw new Failure(`${what}: expected a message with '${fragment}', got '${answer.error.details}'`);
}

// ---- request builders -------------------------------------------------------------------------------------------
const str = (s) => ({ string_param: s });
function tensor(name, datatype, shape, contents, parameters) {
  return { name, datatype, shape, contents: contents || undefined, parameters: parameters || {} };
}
function columns(datatype, field, x1, x2, x3, extra) {
  return Object.assign({
    id: 'req-1',
    inputs: [tensor('x1', datatype, [x1.length], { [field]: x1 }), tensor('x2', datatype, [x2.length], { [field]: x2 }),
      tensor('x3', datatype, [x3.length], { [field]: x3 })],
  }, extra || {});
}
function outputsOf(answer) {
  return answer.outputs.map((o) => ({ name: o.name, datatype: o.datatype, shape: o.shape.map(Number) }));
}
function fp32(buffer) { const v = []; for (let i = 0; i < buffer.length; i += 4) v.push(buffer.readFloatLE(i)); return v; }

// Every numeric datatype: its typed list, two values that use its range, and how to write/read them raw.
const D = [
  { n: 'bool', t: 'BOOL', f: 'bool_contents', v: [true, false], size: 1, w: (b, x, i) => b.writeUInt8(x ? 1 : 0, i), r: (b, i) => b.readUInt8(i) === 1 },
  { n: 'int8', t: 'INT8', f: 'int_contents', v: [-128, 127], size: 1, w: (b, x, i) => b.writeInt8(x, i), r: (b, i) => b.readInt8(i) },
  { n: 'int16', t: 'INT16', f: 'int_contents', v: [-32768, 32767], size: 2, w: (b, x, i) => b.writeInt16LE(x, i), r: (b, i) => b.readInt16LE(i) },
  { n: 'int32', t: 'INT32', f: 'int_contents', v: [-2147483648, 2147483647], size: 4, w: (b, x, i) => b.writeInt32LE(x, i), r: (b, i) => b.readInt32LE(i) },
  { n: 'int64', t: 'INT64', f: 'int64_contents', v: ['-9223372036854775808', '9223372036854775807'], size: 8,
    w: (b, x, i) => b.writeBigInt64LE(BigInt(x), i), r: (b, i) => b.readBigInt64LE(i).toString() },
  { n: 'uint8', t: 'UINT8', f: 'uint_contents', v: [0, 255], size: 1, w: (b, x, i) => b.writeUInt8(x, i), r: (b, i) => b.readUInt8(i) },
  { n: 'uint16', t: 'UINT16', f: 'uint_contents', v: [0, 65535], size: 2, w: (b, x, i) => b.writeUInt16LE(x, i), r: (b, i) => b.readUInt16LE(i) },
  { n: 'uint32', t: 'UINT32', f: 'uint_contents', v: [0, 4294967295], size: 4, w: (b, x, i) => b.writeUInt32LE(x, i), r: (b, i) => b.readUInt32LE(i) },
  { n: 'uint64', t: 'UINT64', f: 'uint64_contents', v: ['0', '18446744073709551615'], size: 8,
    w: (b, x, i) => b.writeBigUInt64LE(BigInt(x), i), r: (b, i) => b.readBigUInt64LE(i).toString() },
  { n: 'fp32', t: 'FP32', f: 'fp32_contents', v: [-1.5, 3.25], size: 4, w: (b, x, i) => b.writeFloatLE(x, i), r: (b, i) => b.readFloatLE(i) },
  { n: 'fp64', t: 'FP64', f: 'fp64_contents', v: [-1e300, 0.1], size: 8, w: (b, x, i) => b.writeDoubleLE(x, i), r: (b, i) => b.readDoubleLE(i) },
];
function raw(d, values) {
  const b = Buffer.alloc(d.size * values.length);
  values.forEach((x, i) => d.w(b, x, i * d.size));
  return b;
}
function unraw(d, b) { const v = []; for (let i = 0; i < b.length; i += d.size) v.push(d.r(b, i)); return v; }

// ---- cases ------------------------------------------------------------------------------------------------------
const cases = [];
// The models a case needs: those given, else the ones it calls or names in a request (and the health case's 'linear').
const test = (name, fn, models) => cases.push({ name, fn, models: models || [...new Set([...fn.toString()
  .matchAll(/call\('(\w+)'|targets\.(\w+)|model_name: '(\w+)'/g)].map((m) => m[1] || m[2] || m[3]))] });

test('ServerLive', async () => eq(ok(await call('linear', 'ServerLive', {}), 'ServerLive').live, true, 'live'));
test('ServerReady', async () => eq(ok(await call('linear', 'ServerReady', {}), 'ServerReady').ready, true, 'ready'));
test('ServerMetadata', async () => {
  const m = ok(await call('linear', 'ServerMetadata', {}), 'ServerMetadata');
  eq(m.name, 'mlmodels', 'name');
  if (!/^\d+\.\d+\.\d+/.test(m.version)) throw new Failure(`version: '${m.version}' is not a version`);
});
test('ModelMetadata, column signature: one FP64 tensor per column', async () => {
  const m = ok(await call('linear', 'ModelMetadata', { name: 'linear', version: '' }), 'ModelMetadata');
  eq([m.name, m.versions, m.platform], ['linear', ['1'], 'mlflow'], 'name, versions, platform');
  eq(m.inputs.map((t) => [t.name, t.datatype, t.shape.map(Number)]), [['x1', 'FP64', [-1, 1]], ['x2', 'FP64', [-1, 1]], ['x3', 'FP64', [-1, 1]]], 'inputs');
});
test('ModelMetadata, tensor signature', async () => {
  const m = ok(await call('identity', 'ModelMetadata', { name: 'identity', version: '1' }), 'ModelMetadata');
  eq(m.inputs.map((t) => t.datatype), D.map((d) => d.t), 'input datatypes');
});
test('ModelReady, by name and by version', async () => {
  eq(ok(await call('linear', 'ModelReady', { name: 'linear', version: '' }), 'ModelReady').ready, true, 'ready');
  eq(ok(await call('linear', 'ModelReady', { name: 'linear', version: '1' }), 'ModelReady').ready, true, 'ready v1');
});
test('NOT_FOUND: unknown model or version, every RPC that names one', async () => {
  status(await call('linear', 'ModelReady', { name: 'other', version: '' }), 'NOT_FOUND', "Model 'other' not found", 'ModelReady other');
  status(await call('linear', 'ModelReady', { name: 'linear', version: '2' }), 'NOT_FOUND', "no version '2'", 'ModelReady v2');
  status(await call('linear', 'ModelMetadata', { name: 'other', version: '' }), 'NOT_FOUND', 'other', 'ModelMetadata other');
  status(await call('linear', 'ModelMetadata', { name: 'linear', version: '7' }), 'NOT_FOUND', "'7'", 'ModelMetadata v7');
  status(await call('linear', 'ModelInfer', Object.assign(columns('FP64', 'fp64_contents', [1], [2], [3]), { model_name: 'other' })),
    'NOT_FOUND', 'other', 'ModelInfer other');
  status(await call('linear', 'ModelInfer', Object.assign(columns('FP64', 'fp64_contents', [1], [2], [3]), { model_name: 'linear', model_version: '2' })),
    'NOT_FOUND', "'2'", 'ModelInfer v2');
}, ['linear']);
test('ModelInfer, DataFrame (pd): one input per column, typed contents', async () => {
  const a = ok(await call('linear', 'ModelInfer', Object.assign(columns('FP64', 'fp64_contents', [1, 0], [2, 0], [3, 0]), { model_name: 'linear' })), 'infer');
  eq([a.model_name, a.model_version, a.id], ['linear', '1', 'req-1'], 'name, version, id');
  eq(a.parameters.content_type.string_param, 'pd', 'content type');
  eq(outputsOf(a), [{ name: 'variable', datatype: 'FP32', shape: [2, 1] }], 'outputs');
  eq(a.outputs[0].contents.fp32_contents, [4.75, 0.25], 'values');
  eq(a.raw_output_contents.length, 0, 'no raw outputs for a typed request');
});
test('ModelInfer, DataFrame (pd): raw contents in, raw contents out', async () => {
  const fp64 = D.find((d) => d.t === 'FP64');
  const request = { model_name: 'linear', inputs: ['x1', 'x2', 'x3'].map((n) => tensor(n, 'FP64', [2])),
    raw_input_contents: [raw(fp64, [1, 0]), raw(fp64, [2, 0]), raw(fp64, [3, 0])] };
  const a = ok(await call('linear', 'ModelInfer', request), 'infer raw');
  eq(a.raw_output_contents.length, 1, 'raw outputs');
  eq(fp32(a.raw_output_contents[0]), [4.75, 0.25], 'values');
  eq(a.outputs[0].contents, null, 'no typed contents beside raw ones');
});
test('ModelInfer, the datatypes that widen to the columns (INT8-32, UINT8-32, FP32) are taken', async () => {
  for (const d of D.filter((d) => ['INT8', 'INT16', 'INT32', 'UINT8', 'UINT16', 'UINT32', 'FP32'].includes(d.t))) {
    const a = ok(await call('linear', 'ModelInfer', Object.assign(columns(d.t, d.f, [1, 0], [2, 0], [3, 0]), { model_name: 'linear' })), d.t);
    eq(a.outputs[0].contents.fp32_contents, [4.75, 0.25], d.t);
  }
});
test('ModelInfer, INT64/UINT64/BOOL/BYTES for a double column: INVALID_ARGUMENT (MLflow does not narrow)', async () => {
  const sets = [['INT64', 'int64_contents', ['1'], 'int64'], ['UINT64', 'uint64_contents', ['1'], 'uint64'], ['BOOL', 'bool_contents', [true], 'bool'],
    ['BYTES', 'bytes_contents', [Buffer.from('1')], 'str']];
  for (const [t, f, v, numpy] of sets) {
    const r = columns('FP64', 'fp64_contents', [1], [2], [3], { model_name: 'linear' });
    r.inputs[0] = tensor('x1', t, [1], { [f]: v });
    status(await call('linear', 'ModelInfer', r), 'INVALID_ARGUMENT', `Can not safely convert ${numpy} to float64`, t);
  }
});
test('ModelInfer, every numeric datatype in its typed list comes back as it went', async () => {
  const request = { model_name: 'identity', inputs: D.map((d) => tensor(d.n, d.t, [2], { [d.f]: d.v })) };
  const a = ok(await call('identity', 'ModelInfer', request), 'identity');
  eq(a.parameters.content_type.string_param, 'dict', 'content type');
  for (const d of D) {
    const o = a.outputs.find((x) => x.name === d.n + '_out');
    if (!o) throw new Failure(`no output ${d.n}_out`);
    eq([o.datatype, o.shape.map(Number)], [d.t, [2, 1]], d.n + ' datatype and shape');
    eq(o.contents[d.f], d.v, d.n + ' values');
  }
});
test('ModelInfer, every numeric datatype as raw contents comes back raw, as it went', async () => {
  const request = { model_name: 'identity', inputs: D.map((d) => tensor(d.n, d.t, [2])), raw_input_contents: D.map((d) => raw(d, d.v)) };
  const a = ok(await call('identity', 'ModelInfer', request), 'identity raw');
  eq(a.raw_output_contents.length, D.length, 'raw outputs');
  a.outputs.forEach((o, i) => {
    const d = D.find((x) => x.n + '_out' === o.name);
    eq(unraw(d, a.raw_output_contents[i]), d.v, d.n + ' values');
  });
});
test('ModelInfer, FP16 travels raw only, both ways', async () => {
  const half = Buffer.from([0x00, 0x3c, 0x00, 0xc0]); // 1.0 and -2.0 as IEEE half floats, little-endian
  const a = ok(await call('half', 'ModelInfer', { model_name: 'half', inputs: [tensor('fp16', 'FP16', [2])], raw_input_contents: [half] }), 'half raw');
  eq([a.outputs[0].datatype, a.outputs[0].shape.map(Number)], ['FP16', [2, 1]], 'datatype and shape');
  eq([...a.raw_output_contents[0]], [...half], 'raw values');
  status(await call('half', 'ModelInfer', { model_name: 'half', inputs: [tensor('fp16', 'FP16', [2], { fp32_contents: [1, -2] })] }),
    'INVALID_ARGUMENT', 'FP16, which travels only as raw contents', 'FP16 typed');
});
test('ModelInfer, a tensor (np) and a dict of named tensors, BYTES included', async () => {
  const t = ok(await call('tensor', 'ModelInfer', { model_name: 'tensor', inputs: [tensor('input', 'FP32', [2, 3], { fp32_contents: [1, 2, 3, 0, 0, 0] })],
    parameters: { content_type: str('np') } }), 'np');
  eq(t.outputs[0].contents.fp32_contents, [4.75, 0.25], 'np values');
  const m = ok(await call('multi', 'ModelInfer', { model_name: 'multi', inputs: [
    tensor('name', 'BYTES', [2], { bytes_contents: [Buffer.from('p'), Buffer.from('q')] }),
    tensor('a', 'FP64', [2], { fp64_contents: [1, 2] }), tensor('b', 'FP64', [2], { fp64_contents: [0.5, 1] })] }), 'dict');
  eq(m.outputs.map((o) => o.name), ['total', 'name_out'], 'outputs');
  eq(m.outputs[0].contents.fp64_contents, [2, 4], 'total');
  eq(m.outputs[1].contents.bytes_contents.map(String), ['p', 'q'], 'name_out');
  eq(m.outputs[1].parameters.content_type.string_param, 'str', 'name_out content type');
});
test('ModelInfer, BYTES raw: 4-byte little-endian lengths', async () => {
  const bytes = (...items) => Buffer.concat(items.flatMap((s) => { const l = Buffer.alloc(4); l.writeUInt32LE(Buffer.byteLength(s)); return [l, Buffer.from(s)]; }));
  const fp64 = D.find((d) => d.t === 'FP64');
  const a = ok(await call('multi', 'ModelInfer', { model_name: 'multi', inputs: [tensor('name', 'BYTES', [2]), tensor('a', 'FP64', [2]), tensor('b', 'FP64', [2])],
    raw_input_contents: [bytes('p', 'ünï'), raw(fp64, [1, 2]), raw(fp64, [0.5, 1])] }), 'bytes raw');
  eq([...a.raw_output_contents[1]], [...bytes('p', 'ünï')], 'name_out raw');
});
test('ModelInfer, requested outputs filter the answer; an unknown one is INVALID_ARGUMENT', async () => {
  const base = { model_name: 'multi', inputs: [tensor('name', 'BYTES', [1], { bytes_contents: [Buffer.from('p')] }),
    tensor('a', 'FP64', [1], { fp64_contents: [1] }), tensor('b', 'FP64', [1], { fp64_contents: [1] })] };
  const a = ok(await call('multi', 'ModelInfer', Object.assign({ outputs: [{ name: 'name_out', parameters: {} }] }, base)), 'one output');
  eq(a.outputs.map((o) => o.name), ['name_out'], 'outputs');
  status(await call('multi', 'ModelInfer', Object.assign({ outputs: [{ name: 'nope', parameters: {} }] }, base)), 'INVALID_ARGUMENT', "'nope'", 'unknown');
});
test('ModelInfer, a classifier: labels INT64, probabilities as JSON text (pd_json)', async () => {
  const a = ok(await call('classifier', 'ModelInfer', { model_name: 'classifier',
    inputs: [tensor('input', 'FP32', [2, 3], { fp32_contents: [1, 2, 3, 0, 0, 0] })] }), 'classifier');
  eq(a.outputs.map((o) => [o.name, o.datatype]), [['label', 'INT64'], ['probabilities', 'BYTES']], 'outputs');
  eq(a.outputs[1].parameters.content_type.string_param, 'pd_json', 'probabilities content type');
  JSON.parse(String(a.outputs[1].contents.bytes_contents[0]));
});
test('ModelInfer, the model params from the request parameters', async () => {
  ok(await call('linear', 'ModelInfer', columns('FP64', 'fp64_contents', [1], [2], [3], { model_name: 'linear', parameters: { k: { int64_param: '3' } } })), 'k=3');
  status(await call('linear', 'ModelInfer', columns('FP64', 'fp64_contents', [1], [2], [3], { model_name: 'linear', parameters: { k: str('three') } })),
    'INVALID_ARGUMENT', 'k', 'k=three');
});
test('INVALID_ARGUMENT: malformed requests, each with its message', async () => {
  const fp64 = (shape, values, extra) => Object.assign({ model_name: 'linear', inputs: [tensor('x1', 'FP64', shape, { fp64_contents: values }),
    tensor('x2', 'FP64', [1], { fp64_contents: [2] }), tensor('x3', 'FP64', [1], { fp64_contents: [3] })] }, extra || {});
  const bad = [
    [{ model_name: 'linear', inputs: [] }, 'no "inputs"'],
    [fp64([3], [1, 2]), 'has the shape [3], which holds 3 values, but its data has 2'],
    [fp64([2, 2], [1, 2, 3]), 'has the shape [2, 2], which holds 4 values, but its data has 3'],
    [{ model_name: 'linear', inputs: [tensor('x1', 'FP8', [1], {})] }, "datatype 'FP8', which is not one of the protocol's"],
    [{ model_name: 'linear', inputs: [tensor('x1', 'INT8', [1], { int_contents: [300] })] }, 'is not a whole number that int8 holds'],
    [{ model_name: 'linear', inputs: [tensor('x1', 'UINT8', [1], { uint_contents: [256] })] }, 'is not a whole number that uint8 holds'],
    [{ model_name: 'linear', inputs: [tensor('x1', 'FP64', [1], { fp32_contents: [1] })] }, 'whose values go in fp64_contents, but it has fp32_contents'],
    [{ model_name: 'linear', inputs: [tensor('x1', 'FP64', [1])], raw_input_contents: [Buffer.alloc(4)] }, 'takes 8 raw bytes, but 4 were given'],
    [{ model_name: 'linear', inputs: [tensor('x1', 'FP64', [1]), tensor('x2', 'FP64', [1])], raw_input_contents: [Buffer.alloc(8)] },
      'has 2 inputs but 1 raw_input_contents'],
    [{ model_name: 'linear', inputs: [tensor('x1', 'FP64', [1], { fp64_contents: [1] })], raw_input_contents: [Buffer.alloc(8)] }, 'beside raw_input_contents'],
    [{ model_name: 'linear', inputs: [tensor('x1', 'BOOL', [1])], raw_input_contents: [Buffer.from([2])] }, 'is not 0 or 1'],
    [{ model_name: 'linear', inputs: [tensor('x1', 'BYTES', [1])], raw_input_contents: [Buffer.from([9, 0, 0, 0, 65])] }, 'says 9 bytes, but 1 are left'],
    [fp64([1], [1], { parameters: { content_type: { bool_param: true } } }), 'content_type must be a string_param'],
    [fp64([1], [1], { parameters: { content_type: str('xml') } }), "content type 'xml'"],
    [{ model_name: 'linear', inputs: [tensor('x1', 'FP64', [1], { fp64_contents: [1] }), tensor('x1', 'FP64', [1], { fp64_contents: [1] })] }, 'given twice'],
    [{ model_name: 'linear', inputs: [tensor('zz', 'FP64', [1], { fp64_contents: [1] })] }, "has no input 'zz'"],
    [{ model_name: 'tensor', inputs: [tensor('input', 'FP64', [1, 3], { fp64_contents: [1, 2, 3] })] }, 'does not match expected dtype float32'],
    [{ model_name: 'tensor', inputs: [tensor('input', 'BYTES', [1], { bytes_contents: [Buffer.from('x')] })] }, 'dtype of input'],
  ];
  for (const [request, fragment] of bad) {
    const model = request.model_name;
    status(await call(model, 'ModelInfer', request), 'INVALID_ARGUMENT', fragment, fragment);
  }
});
test('INVALID_ARGUMENT: a shape the tensor signature refuses', async () => {
  status(await call('tensor', 'ModelInfer', { model_name: 'tensor', inputs: [tensor('input', 'FP32', [1, 2], { fp32_contents: [1, 2] })] }),
    'INVALID_ARGUMENT', 'shape', 'wrong width');
});
test('RESOURCE_EXHAUSTED: a message past the server\'s body limit', async () => {
  const big = new Array(20000).fill(1.5);
  status(await call('linear', 'ModelInfer', columns('FP64', 'fp64_contents', big, big, big, { model_name: 'linear' })), 'RESOURCE_EXHAUSTED', '', 'big');
});
test('UNAUTHENTICATED without the API key; answered with it (x-api-key or a Bearer token)', async () => {
  const request = columns('FP64', 'fp64_contents', [1], [2], [3], { model_name: 'linear' });
  status(await call('secured', 'ModelInfer', request), 'UNAUTHENTICATED', 'API key', 'no key');
  const key = new grpc.Metadata();
  key.set('x-api-key', 'sesame');
  ok(await call('secured', 'ModelInfer', request, key), 'x-api-key');
  const bearer = new grpc.Metadata();
  bearer.set('authorization', 'Bearer sesame');
  ok(await call('secured', 'ModelInfer', request, bearer), 'bearer');
});
test('gRPC health service (grpc.health.v1): SERVING', async () => {
  const health = loader.fromJSON({
    nested: { grpc: { nested: { health: { nested: { v1: { nested: {
      HealthCheckRequest: { fields: { service: { type: 'string', id: 1 } } },
      HealthCheckResponse: { fields: { status: { type: 'ServingStatus', id: 1 } },
        nested: { ServingStatus: { values: { UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 } } } },
      Health: { methods: { Check: { requestType: 'HealthCheckRequest', responseType: 'HealthCheckResponse' } } },
    } } } } } } },
  }, { enums: String });
  const Health = grpc.loadPackageDefinition(health).grpc.health.v1.Health;
  const c = new Health(targets.linear, grpc.credentials.createInsecure());
  const answer = await new Promise((resolve) => c.Check({ service: '' }, (error, a) => resolve({ error, answer: a })));
  eq(ok(answer, 'Check').status, 'SERVING', 'status');
  c.close();
});

(async () => {
  let failed = 0, ran = 0, skipped = 0;
  for (const c of cases) {
    if (!filter.test(c.name)) continue;
    const missing = c.models.filter((m) => !targets[m]);
    if (missing.length > 0) {
      skipped++;
      process.stdout.write(JSON.stringify({ case: c.name, ok: true, skipped: true, detail: `no server for ${missing.join(', ')}` }) + '\n');
      continue;
    }
    ran++;
    let detail = '';
    let passed = true;
    try { await c.fn(); } catch (e) { passed = false; detail = e instanceof Failure ? e.message : (e && e.stack) || String(e); }
    if (!passed) failed++;
    process.stdout.write(JSON.stringify({ case: c.name, ok: passed, detail }) + '\n');
  }
  process.stdout.write(JSON.stringify({ summary: true, ran, failed, skipped }) + '\n');
  Object.values(clients).forEach((c) => c.close());
  process.exit(failed);
})();
