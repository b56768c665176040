//! The rendered chart boots (PostgreSQL, and the default SQLite on a volume per context):
//! `helm template` renders helm/mediamesh, and every Deployment's
//! containers (init containers first) run here as local processes exactly as rendered:
//! command, args and environment, with ConfigMap and Secret references resolved, against the
//! harness's nats-server and PostgreSQL (given as the chart's external NATS and database
//! URL). Only what a machine cannot give 25 pods is remapped: each pod's container ports
//! become free loopback ports, a Service address (`NAME:PORT`) becomes the loopback port of
//! the pod it selects, a volume's mount path becomes a folder here. A port the binary is told
//! to listen on that the pod does not declare, a probe on an undeclared port, or a Service
//! naming no pod port fails the test; every probe must then answer SERVING on its port, and
//! the gateway (Envoy with the config the chart's init container writes) must serve the
//! seed's vod REST commands.
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

use crate::harness::{BIN, Db, Proc, Sandbox, eventually, free_port, tool};

const RELEASE: &str = "mm";

fn chart() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("helm/mediamesh")
}

fn helm() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/helm/helm");
    assert!(path.is_file(), "helm missing: run scripts/install-tools");
    path
}

/// `helm template` with values arguments, as JSON documents (PyYAML from the tools' venv).
pub fn render(values: &[String]) -> Vec<Value> {
    let mut helm = Command::new(helm());
    helm.args(["template", RELEASE]).arg(chart()).args(values);
    let out = helm.output().expect("helm");
    assert!(
        out.status.success(),
        "helm template: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut python = Command::new(tool("python3"))
        .args([
            "-c",
            "import sys, json, yaml\n\
             json.dump([d for d in yaml.safe_load_all(sys.stdin) if d], sys.stdout)",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 with PyYAML (scripts/install-tools)");
    python.stdin.take().unwrap().write_all(&out.stdout).unwrap();
    let json = python.wait_with_output().unwrap();
    assert!(json.status.success(), "YAML to JSON failed");
    serde_json::from_slice(&json.stdout).unwrap()
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// One pod per Deployment, its declared ports mapped to free loopback ports.
struct Pod {
    name: String,
    labels: BTreeMap<String, String>,
    spec: Value,
    /// containerPort -> local port.
    ports: BTreeMap<u16, u16>,
    /// port name -> containerPort.
    named: BTreeMap<String, u16>,
    /// volume name -> local folder.
    volumes: BTreeMap<String, PathBuf>,
}

struct Rendered {
    docs: Vec<Value>,
    pods: Vec<Pod>,
}

impl Rendered {
    fn new(docs: Vec<Value>, root: &Path) -> Rendered {
        let mut pods = Vec::new();
        for (n, deployment) in docs
            .iter()
            .filter(|d| d["kind"] == "Deployment")
            .enumerate()
        {
            let template = &deployment["spec"]["template"];
            let spec = template["spec"].clone();
            let labels = template["metadata"]["labels"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), text(v)))
                .collect();
            let (mut ports, mut named) = (BTreeMap::new(), BTreeMap::new());
            for container in containers(&spec) {
                for port in container["ports"].as_array().into_iter().flatten() {
                    let number = port["containerPort"].as_u64().unwrap() as u16;
                    ports.insert(number, free_port());
                    if let Some(name) = port["name"].as_str() {
                        named.insert(name.to_owned(), number);
                    }
                }
            }
            let volumes = spec["volumes"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|v| {
                    let name = v["name"].as_str().unwrap().to_owned();
                    let dir = root.join(format!("v{n}-{name}"));
                    std::fs::create_dir_all(&dir).unwrap();
                    // A Secret volume: its keys as files, as the kubelet writes them.
                    if let Some(secret_name) = v["secret"]["secretName"].as_str() {
                        let keys = secret(find(&docs, "Secret", secret_name));
                        for item in v["secret"]["items"].as_array().unwrap() {
                            let key = item["key"].as_str().unwrap();
                            let (_, value) = keys.iter().find(|(k, _)| k == key).unwrap();
                            std::fs::write(dir.join(item["path"].as_str().unwrap()), value)
                                .unwrap();
                        }
                    }
                    (name, dir)
                })
                .collect();
            pods.push(Pod {
                name: deployment["metadata"]["name"].as_str().unwrap().to_owned(),
                labels,
                spec,
                ports,
                named,
                volumes,
            });
        }
        Rendered { docs, pods }
    }

    fn doc(&self, kind: &str, name: &str) -> &Value {
        find(&self.docs, kind, name)
    }

    /// The local port behind Service `service`'s `port`: the pod it selects, the container
    /// port its targetPort names.
    fn service_port(&self, service: &Value, port: u16) -> Option<u16> {
        let spec = &service["spec"];
        let entry = spec["ports"]
            .as_array()?
            .iter()
            .find(|p| p["port"].as_u64() == Some(port as u64))?;
        let selector = spec["selector"].as_object()?;
        let pod = self
            .pods
            .iter()
            .find(|p| {
                selector
                    .iter()
                    .all(|(k, v)| p.labels.get(k) == Some(&text(v)))
            })
            .unwrap_or_else(|| panic!("Service {} selects no pod", service["metadata"]["name"]));
        let target = match &entry["targetPort"] {
            Value::String(name) => *pod.named.get(name).unwrap_or_else(|| {
                panic!(
                    "Service {}: no port named {name} in {}",
                    service["metadata"]["name"], pod.name
                )
            }),
            Value::Number(n) => n.as_u64().unwrap() as u16,
            _ => port,
        };
        Some(*pod.ports.get(&target).unwrap_or_else(|| {
            panic!(
                "Service {}: {target} is no port of {}",
                service["metadata"]["name"], pod.name
            )
        }))
    }

    /// A value as this machine runs it (see the module comment).
    fn localize(&self, pod: &Pod, container: &Value, value: &str) -> String {
        let mut value = value.to_owned();
        for service in self.docs.iter().filter(|d| d["kind"] == "Service") {
            let name = service["metadata"]["name"].as_str().unwrap();
            for port in service["spec"]["ports"].as_array().unwrap() {
                let port = port["port"].as_u64().unwrap() as u16;
                let address = format!("{name}:{port}");
                if value.contains(&address) {
                    let local = self.service_port(service, port).unwrap();
                    value = value.replace(&address, &format!("127.0.0.1:{local}"));
                }
            }
        }
        while let Some(at) = value.find("0.0.0.0:") {
            let digits: String = value[at + 8..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            let port: u16 = digits.parse().unwrap();
            let local = pod.ports.get(&port).unwrap_or_else(|| {
                panic!(
                    "{} listens on {port}, which its pod does not declare",
                    pod.name
                )
            });
            value.replace_range(at..at + 8 + digits.len(), &format!("127.0.0.1:{local}"));
        }
        for mount in container["volumeMounts"].as_array().into_iter().flatten() {
            let path = mount["mountPath"].as_str().unwrap();
            let dir = &pod.volumes[mount["name"].as_str().unwrap()];
            if value == path || value.starts_with(&format!("{path}/")) {
                value = value.replacen(path, &dir.display().to_string(), 1);
            }
        }
        value
    }

    /// `--rest-ports APP=PORT,...`: listen ports, each one the pod must declare.
    fn localize_ports(&self, pod: &Pod, list: &str) -> String {
        list.split(',')
            .map(|pair| {
                let (app, port) = pair.split_once('=').unwrap();
                let port: u16 = port.parse().unwrap();
                let local = pod.ports.get(&port).unwrap_or_else(|| {
                    panic!("{}: REST port {port} is not a container port", pod.name)
                });
                format!("{app}={local}")
            })
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The container's environment: envFrom and env, ConfigMap and Secret keys resolved.
    fn env(&self, pod: &Pod, container: &Value) -> Vec<(String, String)> {
        let mut env = Vec::new();
        for from in container["envFrom"].as_array().into_iter().flatten() {
            if let Some(name) = from["configMapRef"]["name"].as_str() {
                let data = self.doc("ConfigMap", name)["data"].as_object().unwrap();
                env.extend(data.iter().map(|(k, v)| (k.clone(), text(v))));
            }
            if let Some(name) = from["secretRef"]["name"].as_str() {
                env.extend(secret(self.doc("Secret", name)));
            }
        }
        for var in container["env"].as_array().into_iter().flatten() {
            let name = var["name"].as_str().unwrap().to_owned();
            let from = &var["valueFrom"];
            let value = if let Some(value) = var.get("value") {
                text(value)
            } else if let Some(key) = from["secretKeyRef"]["key"].as_str() {
                let doc = self.doc("Secret", from["secretKeyRef"]["name"].as_str().unwrap());
                secret(doc)
                    .into_iter()
                    .find(|(k, _)| k == key)
                    .unwrap_or_else(|| panic!("Secret has no key {key}"))
                    .1
            } else if let Some(key) = from["configMapKeyRef"]["key"].as_str() {
                let doc = self.doc(
                    "ConfigMap",
                    from["configMapKeyRef"]["name"].as_str().unwrap(),
                );
                text(&doc["data"][key])
            } else if from["fieldRef"]["fieldPath"] == "metadata.name" {
                pod.name.clone()
            } else {
                panic!(
                    "{}: env {name} has a source this test does not resolve",
                    pod.name
                )
            };
            env.push((name, value));
        }
        env.into_iter()
            .map(|(k, v)| {
                let v = self.localize(pod, container, &v);
                (k, v)
            })
            .collect()
    }

    /// The container's process, as rendered (localized).
    fn command(&self, pod: &Pod, container: &Value) -> Command {
        let command: Vec<String> = container["command"]
            .as_array()
            .unwrap_or_else(|| panic!("{}: containers name their command", pod.name))
            .iter()
            .map(text)
            .collect();
        let program = match command[0].as_str() {
            "mediamesh" => PathBuf::from(BIN),
            "envoy" => tool("envoy"),
            other => panic!("{}: no local binary for {other}", pod.name),
        };
        let mut args: Vec<String> = command[1..].to_vec();
        args.extend(container["args"].as_array().into_iter().flatten().map(text));
        let mut local = Vec::new();
        for (i, arg) in args.iter().enumerate() {
            if i > 0 && args[i - 1] == "--rest-ports" {
                local.push(self.localize_ports(pod, arg));
            } else {
                local.push(self.localize(pod, container, arg));
            }
        }
        let mut cmd = Command::new(program);
        // Nothing from this test's environment: only what the chart sets.
        cmd.env_clear().args(local).envs(self.env(pod, container));
        cmd
    }
}

fn find<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("the chart references {kind} {name}, which it does not render"))
}

fn containers(spec: &Value) -> impl Iterator<Item = &Value> {
    spec["initContainers"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(spec["containers"].as_array().into_iter().flatten())
}

fn secret(doc: &Value) -> Vec<(String, String)> {
    assert!(
        doc.get("data").is_none(),
        "the chart's Secrets use stringData (this test reads no base64)"
    );
    doc["stringData"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), text(v)))
        .collect()
}

async fn health(port: u16, service: &str) -> Option<i32> {
    let channel = Channel::from_shared(format!("http://127.0.0.1:{port}"))
        .ok()?
        .connect()
        .await
        .ok()?;
    let request = HealthCheckRequest {
        service: service.into(),
    };
    let answer = HealthClient::new(channel).check(request).await.ok()?;
    Some(answer.into_inner().status)
}

fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

/// A probe of a running container: what it asks and on which local port.
struct Probe {
    pod: String,
    port: u16,
    grpc_service: Option<String>,
    proc: usize,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rendered_chart_boots_and_serves_the_seed_through_its_gateway() {
    let sandbox = Sandbox::postgres("chart");
    let Db::Postgres(database_url) = &sandbox.db else {
        unreachable!()
    };
    boots_and_serves(&sandbox, &[format!("database.url={database_url}")]).await;
}

/// The default database: SQLite, each context's file on its own volume.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_sqlite_rendering_boots_and_serves_the_seed() {
    let sandbox = Sandbox::sqlite("chart-sqlite");
    boots_and_serves(&sandbox, &[]).await;
}

/// A token signed by the key under `keys` (made on first use, its JWKS beside it).
fn token(keys: &Path, sub: &str, role: &str) -> String {
    let out = Command::new(BIN)
        .args(["token", "--sub", sub, "--role", role, "--data-dir"])
        .arg(keys)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// Renders with `sets` (and the sandbox's NATS, auth on), runs it, checks probes and REST.
async fn boots_and_serves(sandbox: &Sandbox, sets: &[String]) {
    // Auth on (the chart's default): keys and tokens from `mediamesh token`, the JWKS and
    // the mesh's token given to the chart as values.
    let keys = sandbox.logs.path().join("keys");
    let token = |sub: &str, role: &str| token(&keys, sub, role);
    let service_token = token("mesh", "mesh");
    let mut values: Vec<String> = vec![
        "--set".into(),
        format!("nats.external.url={}", sandbox.nats.url),
        // One local nats-server: streams at 1 replica (the chart's own cluster takes 3).
        "--set".into(),
        "nats.streamReplicas=1".into(),
        "--set-file".into(),
        format!("auth.jwks={}", keys.join("auth/jwks.json").display()),
        "--set".into(),
        format!("auth.serviceToken={service_token}"),
    ];
    for set in sets {
        values.extend(["--set".to_owned(), set.clone()]);
    }
    let docs = render(&values);
    let chart = Rendered::new(docs, sandbox.logs.path());
    assert_eq!(chart.pods.len(), 26, "25 contexts and the gateway");

    let mut procs = Vec::new();
    let mut probes = Vec::new();
    for pod in &chart.pods {
        for init in pod.spec["initContainers"].as_array().into_iter().flatten() {
            let out = chart.command(pod, init).output().expect("init container");
            assert!(
                out.status.success(),
                "{} init container failed: {}",
                pod.name,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        for container in pod.spec["containers"].as_array().unwrap() {
            let log = sandbox.logs.path().join(format!("{}.log", pod.name));
            procs.push((
                Proc::spawn(&pod.name, &mut chart.command(pod, container), &log),
                log,
            ));
            for kind in ["startupProbe", "readinessProbe", "livenessProbe"] {
                let probe = &container[kind];
                let (port, grpc_service) = if let Some(port) = probe["grpc"]["port"].as_u64() {
                    let service = probe["grpc"]["service"].as_str().unwrap_or("");
                    (port as u16, Some(service.to_owned()))
                } else if !probe["tcpSocket"].is_null() {
                    let port = &probe["tcpSocket"]["port"];
                    let port = port
                        .as_u64()
                        .map(|p| p as u16)
                        .unwrap_or_else(|| pod.named[port.as_str().unwrap()]);
                    (port, None)
                } else {
                    assert!(probe.is_null(), "{}: {kind} of an unchecked kind", pod.name);
                    continue;
                };
                let local = *pod.ports.get(&port).unwrap_or_else(|| {
                    panic!(
                        "{}: {kind} on port {port}, which the pod does not declare",
                        pod.name
                    )
                });
                probes.push(Probe {
                    pod: format!("{} {kind}", pod.name),
                    port: local,
                    grpc_service,
                    proc: procs.len() - 1,
                });
            }
        }
    }
    assert!(
        probes.iter().filter(|p| p.grpc_service.is_some()).count() >= 25 * 2,
        "every context has gRPC probes"
    );

    // Every probe passes; a process that exits (bad args or env) fails at once with its log.
    let deadline = Instant::now() + Duration::from_secs(180);
    let mut pending: Vec<&Probe> = probes.iter().collect();
    while !pending.is_empty() {
        for (proc, log) in procs.iter_mut() {
            if let Some(status) = proc.child.try_wait().unwrap() {
                panic!("{} exited ({status}):\n{}", proc.name, tail(log));
            }
        }
        let mut still = Vec::new();
        for probe in pending {
            let ok = match &probe.grpc_service {
                Some(service) => health(probe.port, service).await == Some(1),
                None => std::net::TcpStream::connect(("127.0.0.1", probe.port)).is_ok(),
            };
            if !ok {
                still.push(probe);
            }
        }
        pending = still;
        assert!(
            Instant::now() < deadline,
            "not SERVING within 180 s: {:?}; log of the first: {}",
            pending.iter().map(|p| &p.pod).collect::<Vec<_>>(),
            pending
                .first()
                .map(|p| tail(&procs[p.proc].1))
                .unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // The seed's vod commands through the gateway Service's vod port, with tokens.
    let gateway = chart.doc("Service", &format!("{RELEASE}-mediamesh-gateway"));
    let vod_port = chart
        .service_port(gateway, 8082)
        .expect("the gateway Service has vod's port 8082");
    let rest = format!("http://127.0.0.1:{vod_port}");
    let (admin, customer) = (token("ops", "admin"), token("helm", "customer"));
    let register = json!({"vodId": "helm-1", "vodName": "Charted"});
    let (status, _) = call(&rest, "/vodLists", None, Some(register.clone())).await;
    assert_eq!(status, 401, "the chart turns auth on: no token, no call");
    // Envoy marks an upstream healthy at its next health check (each second) after the
    // context turns SERVING: until then it answers 503 "no healthy upstream", never routed.
    let vod = eventually(
        "the gateway sees vod healthy",
        Duration::from_secs(30),
        || {
            let (rest, admin, register) = (rest.clone(), admin.clone(), register.clone());
            async move {
                let (status, vod) = call(&rest, "/vodLists", Some(&admin), Some(register)).await;
                match status {
                    503 => None,
                    _ => Some((status, vod)),
                }
            }
        },
    )
    .await;
    assert_eq!(vod.0, 200, "{}", vod.1);
    let purchase = eventually("the new VOD purchasable", Duration::from_secs(30), || {
        let (rest, customer) = (rest.clone(), customer.clone());
        async move {
            let body = json!({"vodId": "helm-1", "customerId": "helm"});
            let (status, p) = call(&rest, "/vodPurchases", Some(&customer), Some(body)).await;
            (status == 200).then_some(p)
        }
    })
    .await;
    assert_eq!(purchase["orderStatus"], "PAID", "{purchase}");
    eventually("1000 points for helm", Duration::from_secs(30), || {
        let (rest, customer) = (rest.clone(), customer.clone());
        async move {
            let (status, m) = call(&rest, "/mileages/helm", Some(&customer), None).await;
            (status == 200 && m["points"] == 1000).then_some(())
        }
    })
    .await;
    // Internal RPCs are not routed: vod's Pay has no route on the gateway, token or not.
    let pay = "/mediamesh.vod.v1.PaymentService/Pay";
    let (status, _) = call(&rest, pay, Some(&admin), Some(json!({}))).await;
    assert_eq!(status, 404);
    // The mesh checks tokens too (the chart gave it the JWKS): no token, UNAUTHENTICATED.
    let purchase_pod = chart
        .pods
        .iter()
        .find(|p| p.name == format!("{RELEASE}-mediamesh-vod-purchase"))
        .unwrap();
    let grpc = purchase_pod.ports[&purchase_pod.named["grpc"]];
    let channel = Channel::from_shared(format!("http://127.0.0.1:{grpc}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let request = mediamesh_proto::vod::v1::GetPurchaseRequest {
        purchase_id: purchase["purchaseId"].as_str().unwrap().into(),
    };
    let refused =
        mediamesh_proto::vod::v1::purchase_service_client::PurchaseServiceClient::new(channel)
            .get_purchase(request)
            .await
            .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Unauthenticated, "{refused:?}");
    // On SQLite, each context keeps its file on its own volume.
    for pod in &chart.pods {
        if let Some(dir) = pod.volumes.get("data") {
            let files: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().collect();
            assert!(
                !files.is_empty(),
                "{}: nothing on its data volume",
                pod.name
            );
        }
    }
}

/// A REST call through the gateway: POST with a body, else GET; a bearer token if given.
async fn call(rest: &str, path: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
    let client = reqwest::Client::new();
    let mut request = match &body {
        Some(body) => client.post(format!("{rest}{path}")).json(body),
        None => client.get(format!("{rest}{path}")),
    };
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}
