//! Widgets shared by several windows: the CPU sparkline of the manager's
//! rows and the performance graphs of the details and host windows.

mod graph;
mod sparkline;

pub use graph::Graph;
pub use sparkline::{Samples, Sparkline};
