//! TwiML as the call interpreter runs it: a document read with roxmltree into owned verbs.
//!
//! The root must be `<Response>` (else Twilio's 12100, "document parse failure"). Verbs
//! and attributes are read as REFERENCE 2 lists them; an attribute that does not parse
//! takes its default, as Twilio does after a 12200 warning. An unknown verb is kept as
//! [`Verb::Unsupported`] and skipped by the interpreter.

use roxmltree::{Document, Node};

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Verb {
    Say {
        text: String,
        language: Option<String>,
    },
    Play {
        url: String,
    },
    Pause {
        length: u32,
    },
    Gather(Gather),
    Redirect {
        url: String,
    },
    Hangup,
    Reject {
        reason: String,
    },
    Enqueue(Enqueue),
    Dial(Dial),
    Record(Record),
    Leave,
    Unsupported(String),
}

impl Verb {
    /// Whether the interpreter stops at this verb (waits, leaves the document or ends
    /// the call) rather than playing it and going on.
    pub fn blocks(&self) -> bool {
        !matches!(
            self,
            Verb::Say { .. } | Verb::Play { .. } | Verb::Pause { .. } | Verb::Unsupported(_)
        )
    }
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Gather {
    pub action: Option<String>,
    pub num_digits: Option<usize>,
    pub finish_on_key: String,
    /// Seconds of silence before giving up, after the nested prompts end (default 5).
    pub timeout: u32,
    pub action_on_empty_result: bool,
    /// The nested `<Say>`, `<Play>` and `<Pause>`.
    pub prompts: Vec<Verb>,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Enqueue {
    /// The queue name (the element's text); empty with `workflowSid`.
    pub name: String,
    pub workflow_sid: Option<String>,
    /// `None`: Twilio's default hold music; `Some("")`: silence.
    pub wait_url: Option<String>,
    pub action: Option<String>,
    pub task: Option<TaskNoun>,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TaskNoun {
    pub attributes: String,
    pub priority: Option<i64>,
    pub timeout: Option<u64>,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Dial {
    pub action: Option<String>,
    /// `callerId`: the `From` of a dialled number (default: the dialling call's `From`).
    pub caller_id: Option<String>,
    /// Seconds a dialled number may ring (default 30; Twilio allows 5 to 600).
    pub timeout: u32,
    pub target: DialTarget,
}

/// `<Dial timeout>` when absent.
pub(crate) const DIAL_TIMEOUT: u32 = 30;

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum DialTarget {
    Queue {
        name: String,
        reservation_sid: Option<String>,
        post_work_activity_sid: Option<String>,
        /// TwiML played to the queued caller before the bridge.
        url: Option<String>,
    },
    /// `<Number>`: a phone number, rung as scripted (its `statusCallback` is ignored).
    Number(String),
    /// A client, conference, SIP…: not simulated; the text says what.
    Other(String),
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Record {
    pub action: Option<String>,
    /// Seconds (default 3600).
    pub max_length: u32,
    pub recording_status_callback: Option<String>,
    /// `transcribe="true"`.
    pub transcribe: bool,
    pub transcribe_callback: Option<String>,
}

/// Reads a TwiML document.
pub(crate) fn parse(text: &str) -> Result<Vec<Verb>, String> {
    let document = Document::parse(text).map_err(|e| format!("not XML: {e}"))?;
    let root = document.root_element();
    if root.tag_name().name() != "Response" {
        return Err(format!(
            "the root element is <{}>, not <Response>",
            root.tag_name().name()
        ));
    }
    Ok(elements(root).map(verb).collect())
}

fn elements<'a, 'input>(node: Node<'a, 'input>) -> impl Iterator<Item = Node<'a, 'input>> {
    node.children().filter(Node::is_element)
}

/// All the text under a node, with runs of white space made one space.
fn text(node: Node) -> String {
    let raw: String = node
        .descendants()
        .filter(Node::is_text)
        .filter_map(|n| n.text())
        .collect();
    raw.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn attribute(node: Node, name: &str) -> Option<String> {
    node.attribute(name).map(|v| v.trim().to_string())
}

fn number<T: std::str::FromStr>(node: Node, name: &str) -> Option<T> {
    node.attribute(name).and_then(|v| v.trim().parse().ok())
}

fn verb(node: Node) -> Verb {
    match node.tag_name().name() {
        "Say" => Verb::Say {
            text: text(node),
            language: attribute(node, "language"),
        },
        "Play" => Verb::Play { url: text(node) },
        "Pause" => Verb::Pause {
            length: number(node, "length").unwrap_or(1),
        },
        "Gather" => Verb::Gather(Gather {
            action: attribute(node, "action"),
            num_digits: number(node, "numDigits").filter(|n| *n > 0),
            finish_on_key: attribute(node, "finishOnKey").unwrap_or_else(|| "#".into()),
            timeout: number(node, "timeout").unwrap_or(5),
            action_on_empty_result: attribute(node, "actionOnEmptyResult")
                .is_some_and(|v| v.eq_ignore_ascii_case("true")),
            prompts: elements(node).map(verb).filter(|v| !v.blocks()).collect(),
        }),
        "Redirect" => Verb::Redirect { url: text(node) },
        "Hangup" => Verb::Hangup,
        "Reject" => Verb::Reject {
            reason: attribute(node, "reason").unwrap_or_else(|| "rejected".into()),
        },
        "Enqueue" => {
            let task = elements(node)
                .find(|n| n.tag_name().name() == "Task")
                .map(|task| TaskNoun {
                    attributes: text(task),
                    priority: number(task, "priority"),
                    timeout: number(task, "timeout"),
                });
            // The queue name is the element's own text, not the Task's.
            let name: String = node
                .children()
                .filter(Node::is_text)
                .filter_map(|n| n.text())
                .collect::<String>()
                .trim()
                .to_string();
            Verb::Enqueue(Enqueue {
                name,
                workflow_sid: attribute(node, "workflowSid"),
                wait_url: attribute(node, "waitUrl"),
                action: attribute(node, "action"),
                task,
            })
        }
        "Dial" => {
            let target = match elements(node).next() {
                Some(noun) if noun.tag_name().name() == "Queue" => DialTarget::Queue {
                    name: text(noun),
                    reservation_sid: attribute(noun, "reservationSid"),
                    post_work_activity_sid: attribute(noun, "postWorkActivitySid"),
                    url: attribute(noun, "url"),
                },
                Some(noun) if noun.tag_name().name() == "Number" => DialTarget::Number(text(noun)),
                Some(noun) => {
                    DialTarget::Other(format!("<{}> {}", noun.tag_name().name(), text(noun)))
                }
                // `<Dial>+1555…</Dial>`: a number without the noun.
                None if !text(node).is_empty() => DialTarget::Number(text(node)),
                None => DialTarget::Other(text(node)),
            };
            Verb::Dial(Dial {
                action: attribute(node, "action"),
                caller_id: attribute(node, "callerId").filter(|c| !c.is_empty()),
                timeout: number(node, "timeout").map_or(DIAL_TIMEOUT, |t: u32| t.clamp(5, 600)),
                target,
            })
        }
        "Record" => Verb::Record(Record {
            action: attribute(node, "action"),
            max_length: number(node, "maxLength").unwrap_or(3600),
            recording_status_callback: attribute(node, "recordingStatusCallback"),
            transcribe: attribute(node, "transcribe")
                .is_some_and(|v| v.eq_ignore_ascii_case("true")),
            transcribe_callback: attribute(node, "transcribeCallback"),
        }),
        "Leave" => Verb::Leave,
        other => Verb::Unsupported(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_prompt_reads_as_say_gather_hangup() {
        let verbs = parse(
            r#"<?xml version="1.0" encoding="UTF-8"?>
            <Response>
              <Say language="es-US">Llamada de   facturación</Say>
              <Gather numDigits="1" timeout="6" action="/confirm"><Say>Press 1</Say></Gather>
              <Hangup/>
            </Response>"#,
        )
        .unwrap();
        assert_eq!(
            verbs,
            [
                Verb::Say {
                    text: "Llamada de facturación".into(),
                    language: Some("es-US".into())
                },
                Verb::Gather(Gather {
                    action: Some("/confirm".into()),
                    num_digits: Some(1),
                    finish_on_key: "#".into(),
                    timeout: 6,
                    action_on_empty_result: false,
                    prompts: vec![Verb::Say {
                        text: "Press 1".into(),
                        language: None
                    }],
                }),
                Verb::Hangup,
            ]
        );
    }

    #[test]
    fn enqueue_keeps_the_task_json_and_dial_queue_its_reservation() {
        let verbs = parse(
            r#"<Response><Enqueue workflowSid="WW1" waitUrl="/wait"><Task priority="5">{"skill":"billing"}</Task></Enqueue>
               <Dial><Queue reservationSid="WR1" postWorkActivitySid="WA1"/></Dial></Response>"#,
        )
        .unwrap();
        let Verb::Enqueue(enqueue) = &verbs[0] else {
            panic!("{verbs:?}")
        };
        assert_eq!(enqueue.workflow_sid.as_deref(), Some("WW1"));
        assert_eq!(enqueue.name, "");
        let task = enqueue.task.as_ref().unwrap();
        assert_eq!(task.attributes, r#"{"skill":"billing"}"#);
        assert_eq!(task.priority, Some(5));
        assert_eq!(
            verbs[1],
            Verb::Dial(Dial {
                action: None,
                caller_id: None,
                timeout: DIAL_TIMEOUT,
                target: DialTarget::Queue {
                    name: String::new(),
                    reservation_sid: Some("WR1".into()),
                    post_work_activity_sid: Some("WA1".into()),
                    url: None,
                }
            })
        );
    }

    #[test]
    fn dial_number_keeps_caller_id_action_and_timeout_and_record_its_transcription() {
        let verbs = parse(
            r#"<Response><Dial callerId="+15550100001" action="/dialed" timeout="12" answerOnBridge="true"><Number statusCallback="/s">+15559990001</Number></Dial>
               <Dial><Number> +15559990002 </Number></Dial>
               <Record transcribe="true" transcribeCallback="/transcribed"/></Response>"#,
        )
        .unwrap();
        assert_eq!(
            verbs[0],
            Verb::Dial(Dial {
                action: Some("/dialed".into()),
                caller_id: Some("+15550100001".into()),
                timeout: 12,
                target: DialTarget::Number("+15559990001".into()),
            })
        );
        let Verb::Dial(plain) = &verbs[1] else {
            panic!("{verbs:?}")
        };
        assert_eq!(
            (plain.timeout, plain.caller_id.as_deref()),
            (DIAL_TIMEOUT, None)
        );
        assert_eq!(plain.target, DialTarget::Number("+15559990002".into()));
        let Verb::Record(record) = &verbs[2] else {
            panic!("{verbs:?}")
        };
        assert!(record.transcribe);
        assert_eq!(record.transcribe_callback.as_deref(), Some("/transcribed"));
    }

    #[test]
    fn a_document_that_is_not_a_response_is_refused() {
        assert!(parse("<Say>hi</Say>").is_err());
        assert!(parse("<Response><Say>hi</Response>").is_err());
        assert!(parse("").is_err());
        assert_eq!(parse("<Response/>"), Ok(vec![]));
    }
}
