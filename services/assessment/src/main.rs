//! civicgrid-assessment: settings -> Application::build -> run until stopped.

fn main() -> std::process::ExitCode {
    civicgrid_host::main::<civicgrid_assessment::Application>()
}
