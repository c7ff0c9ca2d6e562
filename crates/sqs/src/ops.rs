//! The SQS operations on JSON-protocol request/response shapes (the query
//! protocol is converted to and from these).

use std::{collections::BTreeMap, time::Duration};

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use wsflow_aws_wire::ServiceError;

use crate::{
    Sqs,
    errors::{invalid_parameter, missing_parameter},
    message::{
        StoredMessage, attributes_json, md5_hex, md5_of_attributes, parse_attributes, validate_body,
    },
    now_ms,
    queue::{QueueMeta, select_attributes},
    store::{Received, SendInput},
};

fn str_param<'a>(body: &'a Value, name: &str) -> Option<&'a str> {
    body.get(name).and_then(Value::as_str)
}

fn required<'a>(body: &'a Value, name: &str) -> Result<&'a str, ServiceError> {
    str_param(body, name).ok_or_else(|| missing_parameter(name))
}

/// An integer parameter given as a JSON number or (query protocol) a string.
fn int_param(body: &Value, name: &str) -> Result<Option<i64>, ServiceError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| {
            invalid_parameter(format!("Value {n} for parameter {name} is invalid."))
        }),
        Some(Value::String(s)) => {
            s.trim().parse().map(Some).map_err(|_| {
                invalid_parameter(format!("Value {s} for parameter {name} is invalid."))
            })
        }
        Some(other) => Err(invalid_parameter(format!(
            "Value {other} for parameter {name} is invalid."
        ))),
    }
}

fn string_list(body: &Value, name: &str) -> Vec<String> {
    body.get(name)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn string_map(body: &Value, name: &str) -> BTreeMap<String, String> {
    body.get(name)
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str().map_or_else(|| v.to_string(), str::to_owned),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The queue named by a `QueueUrl` (`…/<account>/<name>`).
pub fn queue_name_from_url(url: &str) -> Result<String, ServiceError> {
    let trimmed = url.trim_end_matches('/');
    match trimmed.rsplit_once('/') {
        Some((_, name)) if !name.is_empty() => Ok(name.to_owned()),
        _ => Err(ServiceError::client(
            "InvalidAddress",
            format!("The address {url} is not valid for this endpoint."),
        )),
    }
}

fn queue_of(body: &Value) -> Result<String, ServiceError> {
    queue_name_from_url(required(body, "QueueUrl")?)
}

/// Runs one operation.
pub async fn dispatch(sqs: &Sqs, op: &str, body: &Value) -> Result<Value, ServiceError> {
    match op {
        "GetQueueUrl" => {
            let name = required(body, "QueueName")?.to_owned();
            sqs.blocking(move |s| s.store.queue(&name).map(|m| m.name))
                .await??;
            Ok(json!({"QueueUrl": sqs.queue_url(required(body, "QueueName")?)}))
        }
        "CreateQueue" => create_queue(sqs, body).await,
        "ListQueues" => list_queues(sqs, body).await,
        "GetQueueAttributes" => {
            let q = queue_of(body)?;
            let names = string_list(body, "AttributeNames");
            let all = sqs
                .blocking(move |s| {
                    let meta = s.store.queue(&q)?;
                    let counts = s.store.counts(&q, now_ms())?;
                    Ok::<_, ServiceError>(meta.attributes(&s.account, counts))
                })
                .await??;
            let selected = select_attributes(&all, &names)?;
            if selected.as_object().is_some_and(Map::is_empty) {
                Ok(json!({}))
            } else {
                Ok(json!({"Attributes": selected}))
            }
        }
        "SetQueueAttributes" => {
            let q = queue_of(body)?;
            let attrs = string_map(body, "Attributes");
            sqs.blocking(move |s| {
                let mut meta = s.store.queue(&q)?;
                meta.apply(&attrs, false)?;
                meta.modified = now_ms() / 1000;
                s.store.create_queue(meta.clone(), |_| Ok(Some(meta)))
            })
            .await??;
            Ok(json!({}))
        }
        "SendMessage" => {
            let q = queue_of(body)?;
            send_one(sqs, &q, body).await
        }
        "SendMessageBatch" => send_batch(sqs, body).await,
        "ReceiveMessage" => receive(sqs, body).await,
        "DeleteMessage" => {
            let q = queue_of(body)?;
            let handle = required(body, "ReceiptHandle")?.to_owned();
            sqs.delete_message(&q, &handle).await?;
            Ok(json!({}))
        }
        "DeleteMessageBatch" => {
            let q = queue_of(body)?;
            batch(body, "DeleteMessageBatchRequestEntry", |entry| {
                let q = q.clone();
                async move {
                    let handle = required(&entry, "ReceiptHandle")?.to_owned();
                    sqs.delete_message(&q, &handle).await?;
                    Ok(json!({}))
                }
            })
            .await
        }
        "ChangeMessageVisibility" => {
            let q = queue_of(body)?;
            change_visibility(sqs, &q, body).await?;
            Ok(json!({}))
        }
        "ChangeMessageVisibilityBatch" => {
            let q = queue_of(body)?;
            batch(body, "ChangeMessageVisibilityBatchRequestEntry", |entry| {
                let q = q.clone();
                async move {
                    change_visibility(sqs, &q, &entry).await?;
                    Ok(json!({}))
                }
            })
            .await
        }
        "DeleteQueue" => {
            let q = queue_of(body)?;
            sqs.blocking(move |s| s.store.delete_queue(&q)).await??;
            // Long polls on it end (with QueueDoesNotExist).
            sqs.notify(&queue_of(body)?);
            Ok(json!({}))
        }
        "PurgeQueue" => {
            let q = queue_of(body)?;
            sqs.blocking(move |s| s.store.purge(&q, now_ms())).await??;
            Ok(json!({}))
        }
        other => Err(ServiceError::client(
            "InvalidAction",
            format!("The action {other} is not valid for this endpoint."),
        )),
    }
}

async fn create_queue(sqs: &Sqs, body: &Value) -> Result<Value, ServiceError> {
    let name = required(body, "QueueName")?.to_owned();
    let attrs = string_map(body, "Attributes");
    let meta = QueueMeta::from_create(&name, &attrs, now_ms() / 1000)?;
    let account = sqs.inner.account.clone();
    sqs.blocking(move |s| {
        let wanted = meta.attributes(&account, (0, 0, 0));
        s.store.create_queue(meta, |old| {
            let have = old.attributes(&account, (0, 0, 0));
            let differing = attrs.keys().find(|k| have.get(*k) != wanted.get(*k));
            match differing {
                Some(k) => Err(ServiceError::client(
                    "QueueNameExists",
                    format!("A queue already exists with the same name and a different value for attribute {k}"),
                )),
                None => Ok(None),
            }
        })
    })
    .await??;
    Ok(json!({"QueueUrl": sqs.queue_url(&name)}))
}

async fn list_queues(sqs: &Sqs, body: &Value) -> Result<Value, ServiceError> {
    let prefix = str_param(body, "QueueNamePrefix").unwrap_or("").to_owned();
    let max = match int_param(body, "MaxResults")? {
        None => 1000,
        Some(n @ 1..=1000) => n as usize,
        Some(n) => {
            return Err(invalid_parameter(format!(
                "Value {n} for parameter MaxResults is invalid. Reason: MaxResults must be an integer between 1 and 1000."
            )));
        }
    };
    let start = str_param(body, "NextToken").unwrap_or("").to_owned();
    let names = sqs.blocking(|s| s.store.queue_names()).await??;
    let matching: Vec<&String> = names
        .iter()
        .filter(|n| n.starts_with(&prefix) && n.as_str() > start.as_str())
        .collect();
    let urls: Vec<String> = matching
        .iter()
        .take(max)
        .map(|n| sqs.queue_url(n))
        .collect();
    let mut out = json!({});
    if !urls.is_empty() {
        out["QueueUrls"] = json!(urls);
    }
    if matching.len() > max && body.get("MaxResults").is_some() {
        out["NextToken"] = json!(matching[max - 1]);
    }
    Ok(out)
}

/// Builds the message of one SendMessage(-Batch entry) request.
fn build_message(sqs: &Sqs, meta: &QueueMeta, req: &Value) -> Result<StoredMessage, ServiceError> {
    let body = str_param(req, "MessageBody").ok_or_else(|| missing_parameter("MessageBody"))?;
    validate_body(body)?;
    let attributes = parse_attributes(req.get("MessageAttributes"))?;
    let attr_size: usize = attributes
        .iter()
        .map(|(k, v)| {
            k.len()
                + v.data_type.len()
                + v.string_value.as_ref().map_or(0, String::len)
                + v.binary_value.as_ref().map_or(0, |b| b.len() * 3 / 4)
        })
        .sum();
    if (body.len() + attr_size) as u64 > meta.max_message_size {
        return Err(invalid_parameter(format!(
            "One or more parameters are invalid. Reason: Message must be shorter than {} bytes.",
            meta.max_message_size
        )));
    }
    let delay = int_param(req, "DelaySeconds")?;
    if let Some(d) = delay {
        if meta.fifo {
            return Err(invalid_parameter(format!(
                "Value {d} for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type."
            )));
        }
        if !(0..=900).contains(&d) {
            return Err(invalid_parameter(format!(
                "Value {d} for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900."
            )));
        }
    }
    let delay_s = delay.map_or(meta.delay, |d| d as u64);
    let group_id = str_param(req, "MessageGroupId").map(str::to_owned);
    let mut dedup_id = str_param(req, "MessageDeduplicationId").map(str::to_owned);
    let valid_token =
        |s: &str| !s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_graphic());
    if meta.fifo {
        let g = group_id
            .as_deref()
            .ok_or_else(|| missing_parameter("MessageGroupId"))?;
        if !valid_token(g) {
            return Err(invalid_parameter(format!(
                "Value {g} for parameter MessageGroupId is invalid. Reason: MessageGroupId can only include alphanumeric and punctuation characters. 1 to 128 in length."
            )));
        }
        match &dedup_id {
            Some(d) if !valid_token(d) => {
                return Err(invalid_parameter(format!(
                    "Value {d} for parameter MessageDeduplicationId is invalid. Reason: MessageDeduplicationId can only include alphanumeric and punctuation characters. 1 to 128 in length."
                )));
            }
            Some(_) => {}
            None if meta.content_based_deduplication => {
                dedup_id = Some(format!("{:x}", Sha256::digest(body.as_bytes())));
            }
            None => {
                return Err(invalid_parameter(
                    "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly",
                ));
            }
        }
    } else if let Some(d) = &dedup_id {
        return Err(invalid_parameter(format!(
            "Value {d} for parameter MessageDeduplicationId is invalid. Reason: The request include parameter that is not valid for this queue type."
        )));
    }
    let now = now_ms();
    Ok(StoredMessage {
        message_id: uuid::Uuid::new_v4().to_string(),
        body: body.to_owned(),
        md5_of_body: md5_hex(body.as_bytes()),
        md5_of_attributes: md5_of_attributes(&attributes),
        attributes,
        sent_ms: now,
        sender_id: sqs.inner.account.account_id.clone(),
        group_id,
        dedup_id,
        sequence_number: None,
        receive_count: 0,
        first_receive_ms: None,
        visible_at_ms: now + delay_s * 1000,
        receipt_nonce: None,
    })
}

async fn send_one(sqs: &Sqs, queue: &str, req: &Value) -> Result<Value, ServiceError> {
    let q = queue.to_owned();
    let meta = sqs.blocking(move |s| s.store.queue(&q)).await??;
    let msg = build_message(sqs, &meta, req)?;
    let (md5_body, md5_attrs) = (msg.md5_of_body.clone(), msg.md5_of_attributes.clone());
    let q = queue.to_owned();
    let out = sqs
        .blocking(move |s| s.store.send(&q, SendInput { message: msg }, now_ms()))
        .await??;
    sqs.notify(queue);
    let mut resp = json!({"MD5OfMessageBody": md5_body, "MessageId": out.message_id});
    if let Some(m) = md5_attrs {
        resp["MD5OfMessageAttributes"] = json!(m);
    }
    if let Some(s) = out.sequence_number {
        resp["SequenceNumber"] = json!(s);
    }
    Ok(resp)
}

/// Validates batch entries (`Entries` with distinct, well-formed `Id`s) and
/// runs `each` per entry, collecting `Successful` / `Failed`.
async fn batch<'a, F, Fut>(body: &Value, entry_name: &str, each: F) -> Result<Value, ServiceError>
where
    F: Fn(Value) -> Fut,
    Fut: std::future::Future<Output = Result<Value, ServiceError>> + 'a,
{
    let entries = body
        .get("Entries")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if entries.is_empty() {
        return Err(ServiceError::client(
            "EmptyBatchRequest",
            format!("There should be at least one {entry_name} in the request."),
        ));
    }
    if entries.len() > 10 {
        return Err(ServiceError::client(
            "TooManyEntriesInBatchRequest",
            format!(
                "Maximum number of entries per request are 10. You have sent {}.",
                entries.len()
            ),
        ));
    }
    let mut ids = Vec::new();
    for e in &entries {
        let id = str_param(e, "Id").unwrap_or("");
        if id.is_empty()
            || id.len() > 80
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(ServiceError::client(
                "InvalidBatchEntryId",
                "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.",
            ));
        }
        if ids.contains(&id) {
            return Err(ServiceError::client(
                "BatchEntryIdsNotDistinct",
                format!("Id {id} repeated."),
            ));
        }
        ids.push(id);
    }
    let mut ok = Vec::new();
    let mut failed = Vec::new();
    for e in entries {
        let id = str_param(&e, "Id").unwrap_or_default().to_owned();
        match each(e).await {
            Ok(mut v) => {
                let mut m = Map::new();
                m.insert("Id".into(), json!(id));
                if let Some(o) = v.as_object_mut() {
                    m.append(o);
                }
                ok.push(Value::Object(m));
            }
            Err(err) => failed.push(json!({
                "Id": id,
                "SenderFault": err.status < 500,
                "Code": err.code,
                "Message": err.message,
            })),
        }
    }
    Ok(json!({"Successful": ok, "Failed": failed}))
}

async fn send_batch(sqs: &Sqs, body: &Value) -> Result<Value, ServiceError> {
    let q = queue_of(body)?;
    let total: usize = body
        .get("Entries")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|e| str_param(e, "MessageBody").map_or(0, str::len))
                .sum()
        })
        .unwrap_or(0);
    if total > 1_048_576 {
        return Err(ServiceError::client(
            "BatchRequestTooLong",
            format!(
                "Batch requests cannot be longer than 1048576 bytes. You have sent {total} bytes."
            ),
        ));
    }
    let qn = q.clone();
    sqs.blocking(move |s| s.store.queue(&qn)).await??;
    batch(body, "SendMessageBatchRequestEntry", |entry| {
        let q = q.clone();
        async move {
            let mut v = send_one(sqs, &q, &entry).await?;
            // Batch entries report MD5OfMessageBody etc. like SendMessage.
            if let Some(o) = v.as_object_mut() {
                o.remove("Id");
            }
            Ok(v)
        }
    })
    .await
}

async fn change_visibility(sqs: &Sqs, queue: &str, req: &Value) -> Result<(), ServiceError> {
    let handle = required(req, "ReceiptHandle")?.to_owned();
    let timeout = int_param(req, "VisibilityTimeout")?
        .ok_or_else(|| missing_parameter("VisibilityTimeout"))?;
    if !(0..=43_200).contains(&timeout) {
        return Err(invalid_parameter(format!(
            "Value {timeout} for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= 43200, if provided."
        )));
    }
    let q = queue.to_owned();
    sqs.blocking(move |s| {
        s.store
            .change_visibility(&q, &handle, timeout as u64, now_ms())
    })
    .await??;
    if timeout == 0 {
        sqs.notify(queue);
    }
    Ok(())
}

/// The system attributes of a received message, filtered by the requested names.
pub fn system_attributes(r: &Received, wanted: &[String]) -> Map<String, Value> {
    let m = &r.message;
    let mut all: Vec<(&str, String)> = vec![
        ("SenderId", m.sender_id.clone()),
        ("SentTimestamp", m.sent_ms.to_string()),
        ("ApproximateReceiveCount", m.receive_count.to_string()),
        (
            "ApproximateFirstReceiveTimestamp",
            m.first_receive_ms.unwrap_or(m.sent_ms).to_string(),
        ),
    ];
    if let Some(s) = &m.sequence_number {
        all.push(("SequenceNumber", s.clone()));
    }
    if let Some(d) = &m.dedup_id {
        all.push(("MessageDeduplicationId", d.clone()));
    }
    if let Some(g) = &m.group_id {
        all.push(("MessageGroupId", g.clone()));
    }
    all.into_iter()
        .filter(|(k, _)| wanted.iter().any(|w| w == "All" || w == k))
        .map(|(k, v)| (k.to_owned(), json!(v)))
        .collect()
}

async fn receive(sqs: &Sqs, body: &Value) -> Result<Value, ServiceError> {
    let q = queue_of(body)?;
    let max = int_param(body, "MaxNumberOfMessages")?.unwrap_or(1);
    if !(1..=10).contains(&max) {
        return Err(invalid_parameter(format!(
            "Value {max} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided."
        )));
    }
    let visibility = int_param(body, "VisibilityTimeout")?;
    if let Some(v) = visibility
        && !(0..=43_200).contains(&v)
    {
        return Err(invalid_parameter(format!(
            "Value {v} for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= 43200, if provided."
        )));
    }
    let wait = int_param(body, "WaitTimeSeconds")?;
    if let Some(w) = wait
        && !(0..=20).contains(&w)
    {
        return Err(invalid_parameter(format!(
            "Value {w} for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided."
        )));
    }
    let qn = q.clone();
    let meta = sqs.blocking(move |s| s.store.queue(&qn)).await??;
    let wait = wait.map_or(meta.receive_wait, |w| w as u64);
    let mut sys_names = string_list(body, "AttributeNames");
    sys_names.extend(string_list(body, "MessageSystemAttributeNames"));
    let attr_names = string_list(body, "MessageAttributeNames");
    let got = sqs
        .receive_messages(
            &q,
            max as usize,
            Duration::from_secs(wait),
            visibility.map(|v| v as u64),
        )
        .await?;
    if got.is_empty() {
        return Ok(json!({}));
    }
    let messages: Vec<Value> = got
        .iter()
        .map(|r| {
            let mut m = json!({
                "MessageId": r.message.message_id,
                "ReceiptHandle": r.receipt_handle,
                "MD5OfBody": r.message.md5_of_body,
                "Body": r.message.body,
            });
            let sys = system_attributes(r, &sys_names);
            if !sys.is_empty() {
                m["Attributes"] = Value::Object(sys);
            }
            let attrs = attributes_json(&r.message.attributes, &attr_names);
            if attrs.as_object().is_some_and(|o| !o.is_empty()) {
                let selected: BTreeMap<_, _> = r
                    .message
                    .attributes
                    .iter()
                    .filter(|(k, _)| attrs.get(k.as_str()).is_some())
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                m["MD5OfMessageAttributes"] = json!(md5_of_attributes(&selected));
                m["MessageAttributes"] = attrs;
            }
            m
        })
        .collect();
    Ok(json!({"Messages": messages}))
}
