//! A stand-in for the AWS federation endpoint (`VAULT_FEDERATION_ENDPOINT`): records each
//! request's query and answers as the test says.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use tiny_http::{Response, Server};

/// How the endpoint answers getSigninToken.
#[derive(Clone, Copy)]
pub enum Answer {
    Token(&'static str),
    Status(u16),
    NotJson,
    /// This status, with a page that quotes the request, query string and all, as the error
    /// pages of some proxies and gateways do, and the Session parameter decoded as well.
    QuotingRequest(u16),
}

pub struct Federation {
    server: Arc<Server>,
    queries: Arc<Mutex<Vec<HashMap<String, String>>>>,
    thread: Option<JoinHandle<()>>,
}

impl Federation {
    pub fn start(answer: Answer) -> Self {
        let server = Arc::new(Server::http("127.0.0.1:0").expect("listen"));
        let queries = Arc::new(Mutex::new(Vec::new()));
        let thread = {
            let (server, queries) = (Arc::clone(&server), Arc::clone(&queries));
            std::thread::spawn(move || {
                for request in server.incoming_requests() {
                    let asked = query(request.url());
                    queries.lock().unwrap().push(asked.clone());
                    let response = match answer {
                        Answer::Token(token) => Response::from_string(
                            serde_json::json!({ "SigninToken": token }).to_string(),
                        ),
                        Answer::Status(code) => {
                            Response::from_string("{\"error\":\"nope\"}").with_status_code(code)
                        }
                        Answer::NotJson => Response::from_string("<html>maintenance</html>"),
                        Answer::QuotingRequest(code) => Response::from_string(format!(
                            "<html><head><title>ERROR: Access Denied</title></head><body>\
                             <h1>{code} Forbidden</h1><p>The proxy refused GET http://{}{}</p>\
                             <p>Session: {}</p></body></html>",
                            request
                                .headers()
                                .iter()
                                .find(|h| h.field.equiv("Host"))
                                .map_or("", |h| h.value.as_str()),
                            request.url(),
                            asked.get("Session").map_or("", String::as_str),
                        ))
                        .with_status_code(code),
                    };
                    let _ = request.respond(response);
                }
            })
        };
        Self {
            server,
            queries,
            thread: Some(thread),
        }
    }

    pub fn endpoint(&self) -> String {
        let port = self.server.server_addr().to_ip().unwrap().port();
        format!("http://127.0.0.1:{port}/federation")
    }

    /// The decoded query parameters of every request so far.
    pub fn queries(&self) -> Vec<HashMap<String, String>> {
        self.queries.lock().unwrap().clone()
    }
}

impl Drop for Federation {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// `a=1&b=x%20y` of a URL, decoded.
pub fn query(url: &str) -> HashMap<String, String> {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (super::form_decode(k), super::form_decode(v)))
        .collect()
}
