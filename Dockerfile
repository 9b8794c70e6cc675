# syntax=docker/dockerfile:1
# zsync in a container: `docker build -t zsync .`, then
#   docker run --rm -v "$PWD:/work" -e ZOHO_CLIENT_ID -e ZOHO_CLIENT_SECRET \
#     -e ZOHO_REFRESH_TOKEN zsync run jobs.yaml
# The README's "Container" section says more.

# Minor version pinned: a new Python arrives when this line changes, not on a rebuild.
FROM python:3.12-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
# Only what the wheel is built from (README.md is the package's long description;
# schemas/ and jobs.example.yaml go into the wheel), so an edit elsewhere doesn't
# invalidate this layer.
COPY pyproject.toml README.md jobs.example.yaml ./
COPY schemas ./schemas
COPY zsync ./zsync
# zsync's wheel and every dependency's, so the final stage installs without a network or
# a compiler (the dependencies publish wheels for this platform).
RUN pip wheel --wheel-dir /wheels .

FROM python:3.12-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-index --find-links /wheels zoho-zsync
# Not root: a job file's ${VAR}s are credentials, and nothing here needs privileges. Run with
# --user "$(id -u):$(id -g)" so .zsync/ and exports/ in the mounted directory are yours.
RUN useradd --create-home --uid 10001 zsync && install -d -o zsync -g zsync /work
USER zsync
WORKDIR /work
ENTRYPOINT ["zsync"]
CMD ["--help"]
