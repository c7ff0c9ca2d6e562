//! `AWS::SNS::Topic` and `AWS::SNS::Subscription`: names, `Ref`/`GetAtt`,
//! inline and separate subscriptions, and the errors naming the resource
//! and the property.

use wsflow_template::*;

fn ctx() -> LocalContext {
    LocalContext {
        account: wsflow_aws_wire::Account::default(),
        stack_name: "wsflow".into(),
        endpoint: "http://127.0.0.1:3001".into(),
        api_id: "localapi01".into(),
        template_dir: ".".into(),
    }
}

const TEMPLATE: &str = r#"
Resources:
  Named:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: orders
      Subscription:
        - Protocol: sqs
          Endpoint: !GetAtt Q.Arn
  Unnamed:
    Type: AWS::SNS::Topic
  Q:
    Type: AWS::SQS::Queue
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn
  ToFunction:
    Type: AWS::SNS::Subscription
    Properties:
      TopicArn: !Ref Named
      Protocol: lambda
      Endpoint: !Ref Fn
  Raw:
    Type: AWS::SNS::Subscription
    Properties:
      TopicArn: !GetAtt Unnamed.TopicArn
      Protocol: sqs
      Endpoint: !GetAtt Q.Arn
      RawMessageDelivery: "true"
Outputs:
  TopicName:
    Value: !GetAtt Named.TopicName
"#;

#[test]
fn topics_collect_their_inline_and_separate_subscriptions() {
    let app = load_str(TEMPLATE, &[], &ctx()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(app.topics.len(), 2);
    let named = app.topics.iter().find(|t| t.logical_id == "Named").unwrap();
    assert_eq!(named.name, "orders");
    assert_eq!(
        named.subscriptions,
        [
            TopicSubscription {
                protocol: "sqs".into(),
                endpoint: "arn:aws:sqs:us-east-1:123456789012:wsflow-Q".into(),
                raw_message_delivery: false,
            },
            TopicSubscription {
                protocol: "lambda".into(),
                endpoint: "arn:aws:lambda:us-east-1:123456789012:function:wsflow-Fn".into(),
                raw_message_delivery: false,
            },
        ]
    );
    let unnamed = app
        .topics
        .iter()
        .find(|t| t.logical_id == "Unnamed")
        .unwrap();
    assert_eq!(unnamed.name, "wsflow-Unnamed");
    assert_eq!(unnamed.subscriptions.len(), 1);
    assert!(unnamed.subscriptions[0].raw_message_delivery);
    assert_eq!(app.outputs["TopicName"], "orders");
}

#[test]
fn a_subscription_to_an_unknown_topic_names_the_resource_and_property() {
    let yaml = "Resources:\n  S:\n    Type: AWS::SNS::Subscription\n    Properties:\n      TopicArn: arn:aws:sns:us-east-1:123456789012:nope\n      Protocol: sqs\n      Endpoint: arn:aws:sqs:us-east-1:123456789012:q\n";
    match load_str(yaml, &[], &ctx()) {
        Err(TemplateError::Resource {
            resource, property, ..
        }) => assert_eq!((resource.as_str(), property.as_str()), ("S", "TopicArn")),
        other => panic!("expected a resource error, got {other:?}"),
    }
    let yaml = "Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties:\n      Subscription:\n        - Protocol: sqs\n";
    match load_str(yaml, &[], &ctx()) {
        Err(TemplateError::Resource {
            resource, property, ..
        }) => assert_eq!(
            (resource.as_str(), property.as_str()),
            ("T", "Subscription[0].Endpoint")
        ),
        other => panic!("expected a resource error, got {other:?}"),
    }
}
