# Kizuna production image: small, non-root, migrates then serves.
#   docker build -t kizuna .
#   docker run -p 8000:8000 -e KIZUNA_ENV=production -e KIZUNA_SECRET_KEY=... \
#     -e KIZUNA_DATABASE_URL=postgresql+asyncpg://user:pass@db/kizuna kizuna
FROM python:3.11-slim AS build
WORKDIR /src
RUN pip install --no-cache-dir --upgrade pip build
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY templates ./templates
COPY static ./static
COPY migrations ./migrations
RUN python -m build --wheel --outdir /wheels

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    KIZUNA_DATA_DIR=/data KIZUNA_ENV=production
RUN useradd --system --uid 10001 --home-dir /data --create-home kizuna
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER kizuna
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["sh", "-c", "kizuna migrate upgrade && exec kizuna serve --host 0.0.0.0 --port 8000 --workers ${KIZUNA_WORKERS:-2}"]
