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
                    queries.lock().unwrap().push(query(request.url()));
                    let response = match answer {
                        Answer::Token(token) => Response::from_string(
                            serde_json::json!({ "SigninToken": token }).to_string(),
                        ),
                        Answer::Status(code) => {
                            Response::from_string("{\"error\":\"nope\"}").with_status_code(code)
                        }
                        Answer::NotJson => Response::from_string("<html>maintenance</html>"),
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
