"""The ceiling: a minimal Flask endpoint that parses the same JSON and answers 201, no database."""
from flask import Flask, jsonify, request

app = Flask(__name__)


@app.post("/api/v1/sessions/<int:session_id>/checkins")
def checkin(session_id: int):
    body = request.get_json(silent=True) or {}
    return jsonify({"status": "checked_in", "session_id": session_id, "nonce": body.get("nonce")}), 201
