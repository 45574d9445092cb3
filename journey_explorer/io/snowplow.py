"""Snowplow enriched events: tab-separated, no header, 131 fields in a documented order.

Recognised by its shape (131 tab-separated fields whose ``platform`` is a Snowplow platform code
and whose ``collector_tstamp`` is a time), read with the column names of Snowplow's "Enriched
stream TSV file format" page. User: ``user_id``, else ``domain_userid``, else ``network_userid``;
event: ``event_name``, else ``event``; time: ``derived_tstamp``, else ``collector_tstamp`` (UTC);
session: ``domain_sessionid``; insert id: ``event_id``. Other non-empty fields are properties.
"""
from __future__ import annotations

import re

import numpy as np

from journey_explorer.domain import InputError, Rejection
from journey_explorer.io.base import VENDOR_MAPPING, InMemoryReader
from journey_explorer.io.opening import open_binary

COLUMNS = (
    "app_id platform etl_tstamp collector_tstamp dvce_created_tstamp event event_id txn_id name_tracker "
    "v_tracker v_collector v_etl user_id user_ipaddress user_fingerprint domain_userid domain_sessionidx "
    "network_userid geo_country geo_region geo_city geo_zipcode geo_latitude geo_longitude geo_region_name "
    "ip_isp ip_organization ip_domain ip_netspeed page_url page_title page_referrer page_urlscheme "
    "page_urlhost page_urlport page_urlpath page_urlquery page_urlfragment refr_urlscheme refr_urlhost "
    "refr_urlport refr_urlpath refr_urlquery refr_urlfragment refr_medium refr_source refr_term mkt_medium "
    "mkt_source mkt_term mkt_content mkt_campaign contexts se_category se_action se_label se_property "
    "se_value unstruct_event tr_orderid tr_affiliation tr_total tr_tax tr_shipping tr_city tr_state "
    "tr_country ti_orderid ti_sku ti_name ti_category ti_price ti_quantity pp_xoffset_min pp_xoffset_max "
    "pp_yoffset_min pp_yoffset_max useragent br_name br_family br_version br_type br_renderengine br_lang "
    "br_features_pdf br_features_flash br_features_java br_features_director br_features_quicktime "
    "br_features_realplayer br_features_windowsmedia br_features_gears br_features_silverlight br_cookies "
    "br_colordepth br_viewwidth br_viewheight os_name os_family os_manufacturer os_timezone dvce_type "
    "dvce_ismobile dvce_screenwidth dvce_screenheight doc_charset doc_width doc_height tr_currency "
    "tr_total_base tr_tax_base tr_shipping_base ti_currency ti_price_base base_currency geo_timezone "
    "mkt_clickid mkt_network etl_tags dvce_sent_tstamp refr_domain_userid refr_device_tstamp "
    "derived_contexts domain_sessionid derived_tstamp event_vendor event_name event_format event_version "
    "event_fingerprint true_tstamp").split()
assert len(COLUMNS) == 131

PLATFORMS = {"web", "mob", "pc", "srv", "app", "tv", "cnsl", "iot"}
NUMERIC = {"txn_id", "domain_sessionidx", "geo_latitude", "geo_longitude", "page_urlport", "refr_urlport",
           "se_value", "tr_total", "tr_tax", "tr_shipping", "ti_price", "ti_quantity", "pp_xoffset_min",
           "pp_xoffset_max", "pp_yoffset_min", "pp_yoffset_max", "br_viewwidth", "br_viewheight",
           "dvce_screenwidth", "dvce_screenheight", "doc_width", "doc_height", "tr_total_base", "tr_tax_base",
           "tr_shipping_base", "ti_price_base"}
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}")
CONSUMED = {"event_id", "domain_sessionid"}       # they become the insert id and the session


def _snowplow_fields(fields: list[str]) -> bool:
    """The documented start of an enriched event: a platform code, then a collector time."""
    return len(fields) > 6 and fields[1] in PLATFORMS and bool(TIMESTAMP.match(fields[3]))


def looks_like_snowplow(head: bytes) -> bool:
    """Most sample lines split into Snowplow-shaped tab-separated fields (any count: a wrong count
    is refused by the reader with a message, rather than read as a header-less CSV)."""
    lines = [line for line in head.decode("utf-8", errors="replace").splitlines()[:20] if line.strip()]
    if lines and lines[0].rstrip("\r").split("\t")[:8] == COLUMNS[:8]:
        return True                 # the header Snowplow's docs offer to paste on top
    if len(lines) > 1:
        lines = lines[:-1] if len(head) >= 64 * 1024 else lines
    shaped = [line for line in lines if line.count("\t") >= 100 and _snowplow_fields(line.split("\t"))]
    return bool(lines) and len(shaped) >= max(1, len(lines) // 2)


def _number(text: str):
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


class SnowplowReader(InMemoryReader):
    """Snowplow enriched TSV, read whole (one event per line)."""

    fixed_mapping = VENDOR_MAPPING

    def __init__(self, path: str):
        from journey_explorer.io.vendors import Normalised
        self.path, self.format = path, "snowplow"
        with open_binary(path) as stream:
            text = stream.read().decode("utf-8", errors="replace")
        out, lines, self._rejected = Normalised(), [], []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            fields = line.rstrip("\r").split("\t")
            if fields == COLUMNS:
                continue            # a pasted header line
            if len(fields) != len(COLUMNS):
                self._rejected.append(Rejection(number, f"expected {len(COLUMNS)} tab-separated fields "
                                                f"(Snowplow enriched event), found {len(fields)}", line[:2000]))
                continue
            self._add(out, number, dict(zip(COLUMNS, fields)))
            lines.append(number)
        if not out.rows:
            found = sorted({r.reason for r in self._rejected})[:1]
            raise InputError("this looks like Snowplow enriched TSV but no line has the documented "
                             f"{len(COLUMNS)} fields ({found[0] if found else 'no lines'}); export it with "
                             "Snowplow's header and import it as CSV instead", file=path)
        self._frame = out.frame()
        self._lines = np.array(lines, dtype=np.int64)

    @staticmethod
    def _add(out, number: int, record: dict) -> None:
        user = record["user_id"] or record["domain_userid"] or record["network_userid"]
        event = record["event_name"] or record["event"]
        stamp = record["derived_tstamp"] or record["collector_tstamp"]
        time = stamp.replace(" ", "T") + "Z" if stamp else None           # documented as UTC
        properties = {name: _number(value) if name in NUMERIC else value
                      for name, value in record.items() if value != "" and name not in CONSUMED}
        out.add(number, user, event, time, record["domain_sessionid"], record["event_id"], properties)
