"""zsync's data-centre host table against the Zoho SDKs' own (CRM SDK: accounts, API and
upload hosts per centre; the Analytics client: its default hosts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from zsync.http.hosts import DATA_CENTRES, data_centre_of

dc = pytest.importorskip("zohocrmsdk.src.com.zoho.crm.api.dc")

SDK_CENTRES = {
    "com": dc.USDataCenter,
    "eu": dc.EUDataCenter,
    "in": dc.INDataCenter,
    "com.au": dc.AUDataCenter,
    "jp": dc.JPDataCenter,
    "com.cn": dc.CNDataCenter,
    "ca": dc.CADataCenter,
    "sa": dc.SADataCenter,
}


def test_every_sdk_data_centre_is_in_the_table() -> None:
    known = {name for name in dir(dc) if name.endswith("DataCenter") and name != "DataCenter"}
    assert known == {centre.__name__ for centre in SDK_CENTRES.values()}


@pytest.mark.parametrize("name", sorted(SDK_CENTRES))
def test_hosts_match_the_crm_sdk(name: str) -> None:
    environment = SDK_CENTRES[name].PRODUCTION()
    hosts = DATA_CENTRES[name]
    assert hosts.api == environment.url
    assert hosts.accounts + "/oauth/v2/token" == environment.accounts_url
    assert hosts.upload == environment.file_upload_url


def test_default_hosts_match_the_analytics_client() -> None:
    client = pytest.importorskip("zoho_analytics_connector.analytics_client_upstream")
    source = Path(client.__file__).read_text(encoding="utf-8")
    assert f'self.accounts_server_url = "{DATA_CENTRES["com"].accounts}"' in source
    assert f'self.analytics_server_url = "{DATA_CENTRES["com"].analytics}"' in source


def test_a_token_replys_api_domain_names_its_data_centre() -> None:
    assert data_centre_of("https://www.zohoapis.eu") == "eu"
    assert data_centre_of("https://www.zohoapis.ca") == "ca"
    assert data_centre_of("https://www.example.com") is None
