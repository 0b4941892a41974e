"""The test servers themselves: a real PostgreSQL and a real S3-compatible endpoint on loopback."""

from __future__ import annotations

import sqlalchemy as sa


def test_postgres_accepts_psycopg2_connections(postgres_server) -> None:
    url = postgres_server.create_database("smoke")
    assert url.startswith("postgresql+psycopg2://")
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("select 1")).scalar() == 1
        assert "PostgreSQL" in conn.execute(sa.text("select version()")).scalar()
    engine.dispose()


def test_s3_server_round_trips_an_object(s3_server) -> None:
    client = s3_server.client()
    client.create_bucket(Bucket="smoke")
    client.put_object(Bucket="smoke", Key="a/b.txt", Body=b"hello")
    assert client.get_object(Bucket="smoke", Key="a/b.txt")["Body"].read() == b"hello"
    assert s3_server.endpoint_url.startswith("http://127.0.0.1:")
