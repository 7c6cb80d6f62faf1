//! A load balancer for tests, as small as one can be: each TCP connection goes to the
//! next backend in turn, or to another one when that one refuses (it died). Two instances
//! behind it share one public URL, as they would behind any real load balancer.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

#[derive(Clone)]
pub struct Balancer {
    pub addr: SocketAddr,
    dead: Arc<Mutex<HashSet<SocketAddr>>>,
    /// The connections it carries, by backend, so a backend's can be cut.
    carried: Arc<Mutex<Vec<(SocketAddr, AbortHandle)>>>,
}

impl Balancer {
    /// Cuts every connection to `backend` and sends it nothing more, as a process that
    /// died would get nothing: an in-process instance's kept-alive connections would
    /// otherwise go on serving.
    pub fn kill(&self, backend: SocketAddr) {
        self.dead.lock().unwrap().insert(backend);
        for (to, task) in self.carried.lock().unwrap().iter() {
            if *to == backend {
                task.abort();
            }
        }
    }
}

/// Listens on a loopback port until the runtime stops.
pub async fn start(backends: Vec<SocketAddr>) -> Balancer {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let balancer = Balancer {
        addr: listener.local_addr().expect("addr"),
        dead: Arc::default(),
        carried: Arc::default(),
    };
    let this = balancer.clone();
    let next = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let first = next.fetch_add(1, Ordering::Relaxed);
            let alive: Vec<SocketAddr> = (0..backends.len())
                .map(|k| backends[(first + k) % backends.len()])
                .filter(|b| !this.dead.lock().unwrap().contains(b))
                .collect();
            for backend in alive {
                if let Ok(mut server) = TcpStream::connect(backend).await {
                    let task = tokio::spawn(async move {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    });
                    this.carried
                        .lock()
                        .unwrap()
                        .push((backend, task.abort_handle()));
                    break;
                }
            }
        }
    });
    balancer
}
