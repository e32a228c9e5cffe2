# syntax=docker/dockerfile:1
# One image per Encore service, built from the uv workspace at the repository root:
#
#   docker build --build-arg SERVICE=catalog -t encore/catalog:dev .
#
# SERVICE is one of catalog, sharing, analytics, gateway (the members under services/). The
# image holds only that service's locked dependencies, installed as wheels into a virtualenv:
# no sources, no uv, no dev tools, none of libs/devstack (the local infrastructure ladder).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- builder: resolve nothing, install exactly what uv.lock says ------------------------
FROM ${PYTHON_IMAGE} AS builder
ARG SERVICE
RUN case "${SERVICE}" in \
      catalog|sharing|analytics|gateway) ;; \
      *) echo "build with --build-arg SERVICE=<catalog|sharing|analytics|gateway>" >&2; exit 1 ;; \
    esac
# The same uv as the Makefile and CI, so the lock is read by the version that wrote it.
RUN pip install --no-cache-dir "uv==0.13.8"
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src

# Dependencies first, from the lock and the workspace's pyproject files only, so this layer
# is rebuilt when dependencies change, not on every source edit. uv needs every member's
# pyproject.toml to know the workspace, including those it will not install.
COPY pyproject.toml uv.lock ./
COPY libs/contracts/pyproject.toml libs/contracts/
COPY libs/servicekit/pyproject.toml libs/servicekit/
COPY libs/devstack/pyproject.toml libs/devstack/
COPY services/catalog/pyproject.toml services/catalog/
COPY services/sharing/pyproject.toml services/sharing/
COPY services/analytics/pyproject.toml services/analytics/
COPY services/gateway/pyproject.toml services/gateway/
# --package: only encore-$SERVICE and what it depends on (contracts, servicekit), never the
# root project's full list; --no-dev: no test/lint tools; --frozen: the lock as is.
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-workspace --package "encore-${SERVICE}"

# Then the workspace packages themselves, as wheels (--no-editable) so the venv does not
# point back into /src and can be copied alone.
COPY libs/ libs/
COPY services/ services/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package "encore-${SERVICE}"

# --- runtime: the venv on a slim Python, nothing else -------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
ARG SERVICE
# A fixed, unprivileged UID/GID (the Kubernetes manifests run as 10001 and say so).
RUN groupadd --system --gid 10001 encore \
 && useradd --system --uid 10001 --gid encore --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin encore
# Owned by root and not writable by the service user: the code cannot be modified at run time.
COPY --from=builder /app/.venv /app/.venv
ENV PATH="/app/.venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SERVICE=${SERVICE}
WORKDIR /app
USER 10001:10001
EXPOSE 8000
# The ops port (ENCORE_OPS_PORT): /metrics and /health/ready, for operators only.
EXPOSE 8001
# `exec` makes uvicorn PID 1, so it receives SIGTERM and drains in-flight requests.
# --no-proxy-headers: the gateway trusts X-Forwarded-For only from ENCORE_TRUSTED_PROXIES.
# Migrations are a separate command: `python -m ${SERVICE}.db.migrate`.
CMD ["sh", "-c", "exec uvicorn \"${SERVICE}.app:create_app\" --factory --host 0.0.0.0 --port 8000 --no-access-log --no-proxy-headers --timeout-graceful-shutdown 20"]
