# Fast Django: the verbs people type. `make help` lists them.
#
# Every Docker verb first runs deploy/scripts/docker-env.sh: it starts a Docker engine where none
# runs (fresh Debian, as root), picks the official images or, where no registry answers, builds
# stand-ins from the Debian mirror, and exports the image variables docker-compose.yml reads.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

COMPOSE := docker compose
# Prefix for recipes that need Docker: `$(DOCKER) docker compose ...`.
DOCKER = eval "$$(deploy/scripts/docker-env.sh)" &&
UV := deploy/scripts/ensure-uv.sh && uv
WHEELHOUSE := python3 deploy/wheelhouse/wheelhouse.py

REST ?= 1
GRAPHQL ?= 1
SEED_ARGS ?= --users 10 --categories 12 --posts 500 --tags 30 --comments 2000
SERVICE ?=
# make bench BENCH_ARGS="--duration 15 --only list-miss,detail-miss" (python -m fastdjango_bench bench -h)
BENCH_ARGS ?=
SCENARIO ?=

.PHONY: env help up down ps logs build migrate createsuperuser seed scale test test-unit test-e2e \
        lint fmt shell clean sync wheels lock bench profile

help: ## Show this help
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

env:
	@deploy/scripts/ensure-env.sh

up: env wheels ## Start the whole stack (builds images, waits until every service is healthy)
	@$(DOCKER) $(COMPOSE) up -d --build --wait --wait-timeout 600
	@deploy/scripts/print-urls.sh

down: ## Stop the stack (data volumes are kept)
	@$(DOCKER) $(COMPOSE) down --remove-orphans

ps: ## List the stack's containers and their health
	@$(DOCKER) $(COMPOSE) ps

logs: ## Follow logs (all services, or SERVICE=rest)
	@$(DOCKER) $(COMPOSE) logs -f --tail=200 $(SERVICE)

build: env wheels ## Build the images
	@$(DOCKER) $(COMPOSE) build

migrate: env ## Run the deploy job again: migrations, static files, superuser
	@$(DOCKER) $(COMPOSE) run --rm migrate

createsuperuser: env ## Create a superuser interactively
	@$(DOCKER) $(COMPOSE) run --rm migrate python -m admin_site createsuperuser

seed: env ## Load deterministic demo data (SEED_ARGS="--posts 500 ...")
	@$(DOCKER) $(COMPOSE) run --rm migrate python -m admin_site seed_demo $(SEED_ARGS)

scale: env ## Scale the APIs: make scale REST=3 GRAPHQL=2
	@$(DOCKER) $(COMPOSE) up -d --no-recreate --wait --scale rest=$(REST) --scale graphql=$(GRAPHQL)

shell: env ## Django shell inside the stack
	@$(DOCKER) $(COMPOSE) run --rm migrate python -m admin_site shell

sync: wheels ## Install the uv workspace (uv itself too, if missing)
	@$(UV) sync --frozen

wheels: ## Fetch the verified wheels of uv.lock into .wheelhouse/ (for this machine and the images)
	@$(WHEELHOUSE) fetch

lock: ## After editing a pyproject.toml: re-resolve, refresh the wheelhouse, rewrite uv.lock
	@deploy/scripts/ensure-uv.sh && $(WHEELHOUSE) lock && uv sync

test: lint test-unit test-e2e ## Everything: lint, unit and integration tests, end-to-end tests

test-unit: sync ## Tests on real PostgreSQL and Redis (testcontainers)
	@eval "$$(deploy/scripts/docker-env.sh postgres redis)" && uv run pytest -m "not e2e" -p no:cacheprovider

test-e2e: sync ## End-to-end tests against the real stack in Docker
	@$(DOCKER) uv run pytest -m e2e -p no:cacheprovider

bench: sync ## Benchmark against the baselines, in a stack of its own; writes docs/benchmarks.md
	@$(DOCKER) uv run python -m fastdjango_bench bench $(BENCH_ARGS)

profile: sync ## py-spy flame graph of SERVICE=rest|graphql under the benchmark's load [SCENARIO=]
	@$(DOCKER) uv run python -m fastdjango_bench profile --service $(or $(SERVICE),rest) \
		$(if $(SCENARIO),--scenario $(SCENARIO))

lint: sync ## ruff check and format check
	@uv run ruff check . && uv run ruff format --check .

fmt: sync ## Format and fix what ruff can
	@uv run ruff format . && uv run ruff check --fix .

clean: ## Remove the stack, its volumes and images, and local caches
	@if docker info >/dev/null 2>&1; then $(COMPOSE) down --volumes --remove-orphans --rmi local; fi
	@rm -rf .pytest_cache .ruff_cache .e2e
	@find . -name __pycache__ -type d -prune -not -path './.venv/*' -exec rm -rf {} +
