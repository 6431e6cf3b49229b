"""The analyst's alternative to `shadowfleet analyze`, measured by `benches/benches/analyze.rs`:
decode the NMEA with pyais, load the positions into DuckDB and find AIS gaps and port calls
with the same definitions in SQL.

    python pyais_duckdb.py AIS.nmea PORTS.csv TERMINALS.csv

Prints one JSON object: messages decoded, positions, seconds for each phase, gaps and port
calls found. Definitions (as in docs/detectors/):
  * gap: two consecutive positions of one MMSI (after removing duplicates from several
    receivers) at least 6 h apart;
  * port call (GFW's port visit, simplified): a run of positions within 3 km of the same port or
    terminal with no silence of 4 h or more, in which the vessel stops (speed <= 0.2 kn) at least
    once. (GFW's 4 km exit hysteresis is left out: SQL has no easy state machine.)
"""

import csv
import json
import os
import sys
import tempfile
import time

import duckdb
from pyais.stream import FileReaderStream

POSITION_TYPES = {1, 2, 3, 18, 19}


def decode(path, out_csv):
    messages = positions = 0
    with open(out_csv, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["mmsi", "t", "lat", "lon", "sog"])
        for nmea in FileReaderStream(path):
            try:
                tb = nmea.tag_block
                if tb is None:
                    continue
                tb.init()
                msg = nmea.decode()
            except Exception:  # what a careful analyst does with a bad line: skip it
                continue
            messages += 1
            if msg.msg_type not in POSITION_TYPES:
                continue
            lat, lon = msg.lat, msg.lon
            if lat is None or lon is None or abs(lat) > 90 or abs(lon) > 180:
                continue
            w.writerow([msg.mmsi, tb.receiver_timestamp, lat, lon, msg.speed])
            positions += 1
    return messages, positions


SQL = """
CREATE TABLE pos AS
  SELECT DISTINCT mmsi, t::BIGINT AS t, lat, lon, sog FROM read_csv('{csv}', header = true);
CREATE TABLE places AS
  SELECT id, lat, lon FROM read_csv('{ports}', header = true)
  UNION ALL SELECT id, lat, lon FROM read_csv('{terminals}', header = true);
-- Every place filed in the 0.1-degree cells around it (3 km fits in one cell of margin).
CREATE TABLE place_cells AS
  SELECT id, lat, lon, floor(lat * 10)::INT + dy AS cy, floor(lon * 10)::INT + dx AS cx
  FROM places, range(-1, 2) r1(dy), range(-1, 2) r2(dx);
"""

GAPS = """
SELECT count(*) FROM (
  SELECT t - lag(t) OVER (PARTITION BY mmsi ORDER BY t) AS dt FROM pos
) WHERE dt >= 6 * 3600
"""

PORT_CALLS = """
WITH near AS (
  SELECT p.mmsi, p.t, p.sog, c.id,
         2 * 6371008.8 * asin(sqrt(
           pow(sin(radians(c.lat - p.lat) / 2), 2) +
           cos(radians(p.lat)) * cos(radians(c.lat)) * pow(sin(radians(c.lon - p.lon) / 2), 2)
         )) AS d
  FROM pos p JOIN place_cells c
    ON c.cy = floor(p.lat * 10)::INT AND c.cx = floor(p.lon * 10)::INT
),
inport AS (
  SELECT mmsi, t, sog, arg_min(id, d) AS id FROM near WHERE d <= 3000 GROUP BY mmsi, t, sog
),
marked AS (
  SELECT *, CASE WHEN lag(id) OVER w IS DISTINCT FROM id OR t - lag(t) OVER w >= 4 * 3600
                 THEN 1 ELSE 0 END AS starts
  FROM inport WINDOW w AS (PARTITION BY mmsi ORDER BY t)
),
visits AS (
  SELECT mmsi, id, sum(starts) OVER (PARTITION BY mmsi ORDER BY t) AS visit, sog FROM marked
)
SELECT count(*) FROM (
  SELECT mmsi, visit FROM visits GROUP BY mmsi, visit HAVING min(sog) <= 0.2
)
"""


def main():
    path, ports, terminals = sys.argv[1:4]
    with tempfile.TemporaryDirectory() as tmp:
        out_csv = os.path.join(tmp, "positions.csv")
        t0 = time.perf_counter()
        messages, positions = decode(path, out_csv)
        t1 = time.perf_counter()
        con = duckdb.connect()
        con.execute("SET threads TO 2")
        con.execute(SQL.format(csv=out_csv, ports=ports, terminals=terminals))
        gaps = con.execute(GAPS).fetchone()[0]
        port_calls = con.execute(PORT_CALLS).fetchone()[0]
        t2 = time.perf_counter()
    print(json.dumps({
        "messages": messages,
        "positions": positions,
        "decode_s": t1 - t0,
        "sql_s": t2 - t1,
        "gaps": gaps,
        "port_calls": port_calls,
    }))


if __name__ == "__main__":
    main()
