//! Widgets shared by several windows: the CPU sparkline of the manager's
//! rows, the performance graphs of the details and host windows, and the
//! console's framebuffer display.

mod display;
mod graph;
mod sparkline;

pub use display::{Display, Scaling, TILE};
pub use graph::Graph;
pub use sparkline::{Samples, Sparkline};
