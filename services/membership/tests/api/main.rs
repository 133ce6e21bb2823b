//! The membership service against real PostgreSQL and RabbitMQ: one test
//! binary, a module per area, one TestApp (support.rs).

#![allow(clippy::unwrap_used)]

mod access;
mod agreements;
mod capture;
mod conferences;
mod demand_offers;
mod demo_check;
mod import;
mod member_changes;
mod members;
mod organisations;
mod personal_data;
mod points;
mod posts;
mod replica;
mod reports;
mod support;

/// What `demo_membership.rs` takes from the CLI's `demo` module, for
/// `demo_check`, which compiles the loader into this binary.
mod demo {
    pub(crate) fn authorized<T>(message: T, token: &str) -> anyhow::Result<tonic::Request<T>> {
        let mut request = tonic::Request::new(message);
        request
            .metadata_mut()
            .insert("authorization", format!("Bearer {token}").parse()?);
        Ok(request)
    }
}
