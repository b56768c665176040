//! OpenTelemetry export: with `OTEL_EXPORTER_OTLP_ENDPOINT` set, the mesh sends spans over
//! OTLP/gRPC to a real receiver, and the purchase saga's spans (the call, the Pay hop, the
//! event hops) share the caller's trace id.
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mediamesh_proto::vod::v1 as pb;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use tokio_stream::wrappers::TcpListenerStream;

use crate::harness::{Sandbox, eventually, free_port};

/// A minimal OTLP trace receiver: keeps (trace id, span name) of every span it is sent.
#[derive(Clone, Default)]
struct Receiver {
    spans: Arc<Mutex<Vec<(String, String)>>>,
}

#[tonic::async_trait]
impl TraceService for Receiver {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut spans = self.spans.lock().unwrap();
        for resource in request.into_inner().resource_spans {
            for scope in resource.scope_spans {
                for span in scope.spans {
                    let trace: String = span.trace_id.iter().map(|b| format!("{b:02x}")).collect();
                    spans.push((trace, span.name));
                }
            }
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_are_exported_over_otlp_in_one_trace() {
    let receiver = Receiver::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(receiver.clone()))
            .serve_with_incoming(TcpListenerStream::new(listener)),
    );

    let sandbox = Sandbox::sqlite("otlp");
    let env = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
    ];
    let mesh = sandbox.serve_with(free_port(), "vod", &[], &env).await;

    let trace_id = "0af7651916cd43dd8448eb211c80319c";
    let mut request = tonic::Request::new(pb::CreatePurchaseRequest {
        vod_id: "1".into(),
        customer_id: "otel".into(),
        ..Default::default()
    });
    let traceparent = format!("00-{trace_id}-b7ad6b7169203331-01");
    request
        .metadata_mut()
        .insert("traceparent", traceparent.parse().unwrap());
    mesh.purchases()
        .await
        .create_purchase(request)
        .await
        .unwrap();

    let names = eventually(
        "the saga's spans at the receiver",
        Duration::from_secs(20),
        || {
            let spans = receiver.spans.clone();
            async move {
                let names: Vec<String> = spans
                    .lock()
                    .unwrap()
                    .iter()
                    .filter(|(t, _)| t == trace_id)
                    .map(|(_, n)| n.clone())
                    .collect();
                let has = |part: &str| names.iter().any(|n| n.contains(part));
                (has("PurchaseService/CreatePurchase")
                    && has("PaymentService/Pay")
                    && has("PaymentApproved"))
                .then_some(names)
            }
        },
    )
    .await;
    assert!(
        names.iter().any(|n| n == "vod_mileage PaymentApproved"),
        "{names:?}"
    );
}
