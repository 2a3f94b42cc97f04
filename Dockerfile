FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY cdc cdc
COPY replayer replayer
COPY bench bench
COPY schemas schemas
RUN pip install --no-cache-dir . && useradd --system cdc
USER cdc
ENTRYPOINT ["cdc"]
CMD ["--help"]
