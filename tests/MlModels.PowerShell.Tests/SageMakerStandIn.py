#!/usr/bin/python3
"""The two parts of AWS that moto 5.2.1 cannot play in the SageMaker workflow test (SageMakerWorkflow.Tests.ps1),
put in front of moto for the ECR and SageMaker endpoints (AWS_ENDPOINT_URL_ECR, AWS_ENDPOINT_URL_SAGEMAKER):

- ECR's registry: the repository URIs and the login that moto issues name a registry that does not exist; they are
  rewritten to name the local htpasswd docker-registry and its user and password, so the push really happens.
- SageMaker's UpdateEndpoint, which moto 5.2.1 does not implement, carried out as the SageMaker API reference documents
  it ("SageMaker sets the endpoint status to Updating. After updating the endpoint, it sets the status to InService";
  the old configuration serves meanwhile), with the semantics of MotoGaps in tests/MlModels.Deploy.Tests/Aws: the
  endpoint and the new configuration must exist; an endpoint already Updating is refused (ValidationException); the
  next UPDATE_POLLS DescribeEndpoint answers say Updating with the old configuration; then the update is carried out
  in moto (CreateEndpoint of the same name with the new configuration and the endpoint's tags, which moto 5.2.1 does
  in place) and the endpoint is InService with it. Not modelled: how long an update takes, failures during one.

Every other request goes to moto unchanged. Each SageMaker and ECR request is first checked against the AWS service
model in tests/specs/aws (the operation exists, required members present, no unknown member, each value of the
model's type); GET /_standin/report answers {"calls": [...], "violations": [...]}.
Standard library only (Debian's python3).
usage: /usr/bin/python3 SageMakerStandIn.py MOTO_URL REGISTRY USER PASSWORD
       prints the port it serves on (127.0.0.1), then serves until killed.
"""
import base64
import http.client
import json
import os
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MOTO = urllib.parse.urlsplit(sys.argv[1])
REGISTRY, USER, PASSWORD = sys.argv[2:5]
ECR = "AmazonEC2ContainerRegistry_V20150921."
HOP = {"host", "content-length", "connection", "transfer-encoding", "keep-alive"}
SPECS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "specs", "aws")
MODELS = {}
for name in ("sagemaker-2017-07-24.min.json", "ecr-2015-09-21.min.json"):
    with open(os.path.join(SPECS, name), encoding="utf-8") as f:
        spec = json.load(f)
    MODELS[spec["metadata"]["targetPrefix"]] = spec
CALLS, VIOLATIONS, LOCK = [], [], threading.Lock()


def check_value(model, shape, value, where, out):
    if "shape" in shape:
        shape = model["shapes"][shape["shape"]]
    kind = shape.get("type", "string")
    if kind == "structure":
        if not isinstance(value, dict):
            return out.append(f"{where}: expected a structure")
        for r in shape.get("required", []):
            if r not in value:
                out.append(f"{where}: required member {r} is missing")
        for k, v in value.items():
            if k not in shape["members"]:
                out.append(f"{where}: {k} is not a member")
            else:
                check_value(model, shape["members"][k], v, f"{where}.{k}", out)
    elif kind == "list":
        if not isinstance(value, list):
            return out.append(f"{where}: expected a list")
        for i, item in enumerate(value):
            check_value(model, shape["member"], item, f"{where}[{i}]", out)
    elif kind == "map":
        if not isinstance(value, dict):
            return out.append(f"{where}: expected a map")
        for k, v in value.items():
            check_value(model, shape["value"], v, f"{where}[{k}]", out)
    elif kind in ("string", "blob"):
        if not isinstance(value, str):
            out.append(f"{where}: expected a {kind}")
    elif kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            out.append(f"{where}: expected an {kind}")
    elif kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            out.append(f"{where}: expected a {kind}")
    elif kind == "boolean":
        if not isinstance(value, bool):
            out.append(f"{where}: expected a boolean")
    elif kind == "timestamp":
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            out.append(f"{where}: expected a timestamp")
    else:
        out.append(f"{where}: unknown model type {kind}")


def check_request(target, content_type, body):
    prefix, _, operation = target.rpartition(".")
    found = []
    model = MODELS.get(prefix)
    if model is None:
        found.append(f"{target}: no service model has the target prefix {prefix}")
    elif operation not in model["operations"]:
        found.append(f"{target}: the service model has no operation {operation}")
    else:
        if content_type != "application/x-amz-json-1.1":
            found.append(f"{target}: content type {content_type} is not application/x-amz-json-1.1")
        spec = model["operations"][operation]
        if "input" in spec:
            check_value(model, spec["input"], json.loads(body or b"{}"), operation, found)
    with LOCK:
        CALLS.append(target)
        VIOLATIONS.extend(found)


def forward(method, path, headers, body):
    conn = http.client.HTTPConnection(MOTO.hostname, MOTO.port, timeout=120)
    try:
        sent = {k: v for k, v in headers.items() if k.lower() not in HOP}
        sent["Host"] = MOTO.netloc
        sent["Content-Length"] = str(len(body))
        conn.request(method, path, body, sent)
        r = conn.getresponse()
        data = r.read()
        kept = [(k, v) for k, v in r.getheaders() if k.lower() not in HOP | {"server", "date"}]
        return r.status, kept, data
    finally:
        conn.close()


def ecr(operation, status, data):
    if status != 200:
        return data
    answer = json.loads(data)
    repos = list(answer.get("repositories", []))
    if "repository" in answer:
        repos.append(answer["repository"])
    for repo in repos:
        repo["repositoryUri"] = f"{REGISTRY}/{repo['repositoryName']}"
    for auth in answer.get("authorizationData", []):
        auth["authorizationToken"] = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        auth["proxyEndpoint"] = f"http://{REGISTRY}"
    return json.dumps(answer).encode()


UPDATE_POLLS = 2
UPDATING = {}  # endpoint name -> {"config", "tags", "polls"}: updates not yet carried out in moto


def sagemaker(path, headers, operation, payload):
    h = dict(headers)
    h["X-Amz-Target"] = "SageMaker." + operation
    return forward("POST", path, h, json.dumps(payload).encode())


def validation_error(message):
    return 400, [("Content-Type", "application/x-amz-json-1.1")], json.dumps({"__type": "ValidationException", "message": message}).encode()


def update_endpoint(path, headers, body):
    request = json.loads(body)
    name = request["EndpointName"]
    status, kept, data = sagemaker(path, headers, "DescribeEndpoint", {"EndpointName": name})
    if status != 200:
        return status, kept, data
    arn = json.loads(data)["EndpointArn"]
    with LOCK:
        if name in UPDATING:
            return validation_error('Cannot update in-progress endpoint "%s".' % name)
    status, kept, data = sagemaker(path, headers, "DescribeEndpointConfig", {"EndpointConfigName": request["EndpointConfigName"]})
    if status != 200:
        return status, kept, data
    status, _, data = sagemaker(path, headers, "ListTags", {"ResourceArn": arn})
    tags = json.loads(data).get("Tags", []) if status == 200 else []
    with LOCK:
        UPDATING[name] = {"config": request["EndpointConfigName"], "tags": tags, "polls": UPDATE_POLLS}
    return 200, [("Content-Type", "application/x-amz-json-1.1")], json.dumps({"EndpointArn": arn}).encode()


def describe_endpoint(path, headers, body):
    name = json.loads(body).get("EndpointName")
    with LOCK:
        update = UPDATING.get(name)
        if update is not None:
            update["polls"] -= 1
            if update["polls"] < 0:
                del UPDATING[name]
    if update is not None and update["polls"] < 0:
        # The update is done: carried out in moto, which then answers InService with the new configuration.
        create = {"EndpointName": name, "EndpointConfigName": update["config"]}
        if update["tags"]:
            create["Tags"] = update["tags"]
        sagemaker(path, headers, "CreateEndpoint", create)
    status, kept, data = sagemaker(path, headers, "DescribeEndpoint", {"EndpointName": name})
    if status == 200 and update is not None and update["polls"] >= 0:
        answer = json.loads(data)
        answer["EndpointStatus"] = "Updating"  # the old configuration still serves
        data = json.dumps(answer).encode()
    return status, kept, data


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def handle_any(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k: v for k, v in self.headers.items()}
        target = self.headers.get("X-Amz-Target", "")
        if target:
            check_request(target, (self.headers.get("Content-Type") or "").split(";")[0].strip(), body)
        if self.path == "/_standin/report":
            with LOCK:
                status, kept, data = 200, [("Content-Type", "application/json")], json.dumps({"calls": CALLS, "violations": VIOLATIONS}).encode()
        elif target == "SageMaker.UpdateEndpoint":
            status, kept, data = update_endpoint(self.path, headers, body)
        elif target == "SageMaker.DescribeEndpoint":
            status, kept, data = describe_endpoint(self.path, headers, body)
        elif target == "SageMaker.DeleteEndpoint":
            with LOCK:
                UPDATING.pop(json.loads(body).get("EndpointName"), None)
            status, kept, data = forward(self.command, self.path, headers, body)
        else:
            status, kept, data = forward(self.command, self.path, headers, body)
            if target.startswith(ECR):
                data = ecr(target[len(ECR):], status, data)
        self.send_response(status)
        for k, v in kept:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_any

    def log_message(self, format, *args):
        pass


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()
