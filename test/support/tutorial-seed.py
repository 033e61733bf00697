# Fills a tutorial database the way the FastAPI tutorial itself does: its models.py creates the tables
# (create_all at import, DATABASE_URL from the environment) and its auth_utils.py's passlib CryptContext
# hashes the passwords. auth_utils.py also sets up JWTs (python-jose) and a Redis client, which hashing does
# not use; so only its passlib import, `pwd_context` and the two password functions are executed, unchanged.
#
# Usage: DATABASE_URL=postgresql://… /usr/bin/python3 tutorial-seed.py <folder of models.py and auth_utils.py> < users.json
# users.json: [{"email", "password" | "hashed_password", "is_active", "is_verified", "created_at"?}, …]
# Prints the stored rows as JSON: [{"id", "email", "hashed_password", "created_at", "verifies": {…}}, …]
import ast
import json
import os
import sys
from datetime import datetime

seed_dir = sys.argv[1]
sys.path.insert(0, seed_dir)
import models  # noqa: E402  (creates the tutorial's tables)

with open(os.path.join(seed_dir, "auth_utils.py"), encoding="utf-8") as source:
    tree = ast.parse(source.read(), "auth_utils.py")
password_part = [
    node
    for node in tree.body
    if (isinstance(node, ast.ImportFrom) and node.module == "passlib.context")
    or (isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "pwd_context" for t in node.targets))
    or (isinstance(node, ast.FunctionDef) and node.name in ("get_password_hash", "verify_password"))
]
if len(password_part) != 4:
    sys.exit("auth_utils.py no longer has passlib's CryptContext, pwd_context and the two password functions")
auth_utils = {}
exec(compile(ast.Module(body=password_part, type_ignores=[]), "auth_utils.py", "exec"), auth_utils)

users = json.load(sys.stdin)
session = models.SessionLocal()
created = []
for user in users:
    hashed = user.get("hashed_password") or auth_utils["get_password_hash"](user["password"])
    row = models.User(
        email=user["email"],
        hashed_password=hashed,
        is_active=user["is_active"],
        is_verified=user["is_verified"],
    )
    if user.get("created_at"):
        row.created_at = datetime.fromisoformat(user["created_at"])
    session.add(row)
    session.flush()
    created.append((row, user))
session.commit()

out = []
for row, user in created:
    verifies = {}
    for candidate in user.get("check_passwords", []):
        verifies[candidate] = auth_utils["verify_password"](candidate, row.hashed_password)
    out.append(
        {
            "id": row.id,
            "email": row.email,
            "hashed_password": row.hashed_password,
            "created_at": row.created_at.isoformat(),
            "verifies": verifies,
        }
    )
print(json.dumps(out))
