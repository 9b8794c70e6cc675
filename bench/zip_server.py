"""A tiny stand-in for Zoho CRM that serves one prepared ZIP as every bulk read's result.

    python bench/zip_server.py RESULT.zip RECORDS

It answers just what one CRM bulk-read export needs (a token, the create call, a status of
COMPLETED with the record count, the result) and prints `http://127.0.0.1:PORT` once
listening. The result is sent with sendfile(2), so the server costs next to nothing and
zsync and `curl` meet the same fast source: the benchmark measures the client's data path,
not the emulator (which builds its results in Python).
"""

from __future__ import annotations

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

READ_PATH = "/crm/bulk/v8/read"
JOB_ID = "5550000000001"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    result: str = ""
    records: int = 0

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.startswith("/oauth/v2/token"):
            self._json({"access_token": "bench-token", "expires_in": 3600})
        elif self.path == READ_PATH:
            self._json({"data": [{"status": "success", "details": {"id": JOB_ID}}]})
        else:
            self._json({"code": "NOT_FOUND"}, 404)

    def do_GET(self) -> None:
        if self.path == f"{READ_PATH}/{JOB_ID}":
            result = {
                "count": self.records,
                "page": 1,
                "more_records": False,
                "download_url": f"{READ_PATH}/{JOB_ID}/result",
            }
            self._json({"data": [{"id": JOB_ID, "state": "COMPLETED", "result": result}]})
        elif self.path.startswith(f"{READ_PATH}/{JOB_ID}/result"):
            size = os.path.getsize(self.result)
            self.send_response(200)
            self.send_header("Content-Type", "application/zip")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            self.wfile.flush()
            with open(self.result, "rb") as handle:
                self.connection.sendfile(handle)
        else:
            self._json({"code": "NOT_FOUND"}, 404)

    def _json(self, body: object, status: int = 200) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def main() -> None:
    Handler.result, Handler.records = sys.argv[1], int(sys.argv[2])
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
