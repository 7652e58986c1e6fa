"""Validator units with real good and bad values (GB 32100 USCC, GB 11643 ID numbers, codes, contacts)."""
from __future__ import annotations

import pytest
from stdnum.cn import ric

from ckan.lib.navl.dictization_functions import Invalid, StopOnError, missing
from ckan.plugins.toolkit import get_validator

from ckanext.sharing.catalogue import naming
from ckanext.sharing.catalogue import validators as v
from ckanext.sharing.logic import validators as tv

CTX: dict = {}


def _errors_for(validator, key, data):
    errors = {k: [] for k in data}
    errors.setdefault(key, [])
    try:
        validator(key, data, errors, CTX)
    except StopOnError:
        pass
    return errors


class TestUSCC:
    def test_gb32100_example(self):
        """The GB 32100 example code is a valid unified social credit code."""
        assert v.sharing_uscc("91350100M000100Y43", CTX) == "91350100M000100Y43"
        assert v.sharing_uscc(" 91350100m000100y43 ", CTX) == "91350100M000100Y43"

    @pytest.mark.parametrize("bad", ["91350100M000100Y44", "91350100M000100Y4", "91350100M000100Y430", "ABCDEFGHIJKLMNOPQR"])
    def test_rejected(self, bad):
        """Malformed unified social credit codes are refused."""
        with pytest.raises(Invalid):
            v.sharing_uscc(bad, CTX)

    def test_wrong_check_digit_message(self):
        """Wrong check digit message."""
        with pytest.raises(Invalid) as info:
            v.sharing_uscc("91350100M000100Y44", CTX)
        assert "check digit" in str(info.value.error)

    def test_empty_is_left_to_required(self):
        """Empty is left to required."""
        assert v.sharing_uscc("", CTX) == ""


class TestResidentId:
    GOOD = "11010519491231002" + ric.calc_check_digit("11010519491231002" + "0")

    def test_good(self):
        """A resident ID number with a valid check digit and birth date passes."""
        assert v.sharing_resident_id(self.GOOD, CTX) == self.GOOD

    @pytest.mark.parametrize("bad", [
        "11010519491231002" + "9",  # wrong check digit (the right one is X)
        "110105194913310021",  # month 13
        "1101051949123100",  # too short
    ])
    def test_bad(self, bad):
        """Resident ID numbers with a wrong check digit, date or length are refused."""
        with pytest.raises(Invalid):
            v.sharing_resident_id(bad, CTX)


class TestResCode:
    @pytest.mark.parametrize("code,cls", [("101001/1", "1"), ("101001001/000001", "1"), ("302015008001/000123", "3")])
    def test_good(self, code, cls):
        """Well-formed resource codes pass."""
        data = {("res_code",): code, ("res_class",): cls}
        assert _errors_for(v.sharing_res_code, ("res_code",), data)[("res_code",)] == []

    @pytest.mark.parametrize("code", ["001001/1", "401001/1", "10100/1", "101001", "101001/", "101001/12a", "1-01-001/1"])
    def test_malformed(self, code):
        """Malformed resource codes are refused with the expected form in the message."""
        data = {("res_code",): code, ("res_class",): code[:1]}
        assert _errors_for(v.sharing_res_code, ("res_code",), data)[("res_code",)]

    def test_class_digit_mismatch(self):
        """A resource code whose class digit differs from res_class is refused."""
        data = {("res_code",): "201001/1", ("res_class",): "3"}
        assert "(2)" in _errors_for(v.sharing_res_code, ("res_code",), data)[("res_code",)][0]


class TestTier:
    def test_synonyms(self):
        """Every Chinese tier synonym maps to its tier."""
        assert tv.sharing_tier_value("普遍共享", CTX) == "open"
        assert tv.sharing_tier_value("依申请开放", CTX) == "conditional"
        assert tv.sharing_tier_value("非开放", CTX) == "not_shared"
        with pytest.raises(Invalid):
            tv.sharing_tier_value("公开", CTX)

    def test_required_for_tier(self):
        """share_condition / share_basis are required only for their tier."""
        check = tv.sharing_required_for_tier("conditional")
        data = {("sharing_tier",): "按需共享", ("share_condition",): ""}
        assert _errors_for(check, ("share_condition",), data)[("share_condition",)]
        data = {("sharing_tier",): "open", ("share_condition",): ""}
        assert _errors_for(check, ("share_condition",), data)[("share_condition",)] == []

    @pytest.mark.ckan_config("ckan.plugins", "activity datastore scheming_datasets scheming_organizations sharing sharing_catalogue")
    @pytest.mark.usefixtures("with_plugins")
    def test_registered_by_name(self):
        """The tier and catalogue validators are registered under their names."""
        assert get_validator("sharing_uscc") is v.sharing_uscc
        assert get_validator("sharing_res_code") is v.sharing_res_code
        assert get_validator("sharing_tier_value") is tv.sharing_tier_value


class TestValues:
    @pytest.mark.parametrize("good", ["13812345678", "+86 13812345678", "0591-87654321", "010-62345678-123", "87654321", "400-123-4567", "12345"])
    def test_phone_good(self, good):
        """Mobile, landline and hotline numbers pass the phone check."""
        assert v.sharing_phone(good, CTX) == good

    @pytest.mark.parametrize("bad", ["12812345678", "1381234567", "0591-8765", "phone", "123"])
    def test_phone_bad(self, bad):
        """Malformed phone numbers are refused."""
        with pytest.raises(Invalid):
            v.sharing_phone(bad, CTX)

    def test_email(self):
        """E-mail addresses need a dotted domain."""
        assert v.sharing_email("data@fz.gov.cn", CTX) == "data@fz.gov.cn"
        for bad in ("data@localhost", "a b@x.cn", "@x.cn", "x@.cn"):
            with pytest.raises(Invalid):
                v.sharing_email(bad, CTX)

    def test_dates(self):
        """Dates must be real YYYY-MM-DD dates."""
        assert v.sharing_iso_date("2024-02-29", CTX) == "2024-02-29"
        assert v.sharing_iso_date("2024-02-29T10:00:00", CTX) == "2024-02-29"
        for bad in ("2023-02-29", "2024/02/28", "28-02-2024", "2024-2-3"):
            with pytest.raises(Invalid):
                v.sharing_iso_date(bad, CTX)

    def test_boolean(self):
        """Yes/no values are read in English and Chinese; others are refused."""
        assert v.sharing_boolean("是", CTX) is True
        assert v.sharing_boolean("false", CTX) is False
        assert v.sharing_boolean(missing, CTX) is False
        with pytest.raises(Invalid):
            v.sharing_boolean("maybe", CTX)

    def test_item_length(self):
        """Data item lengths are numbers, optionally with decimals."""
        assert v.sharing_item_length("10,2", CTX) == "10,2"
        with pytest.raises(Invalid):
            v.sharing_item_length("ten", CTX)


class TestItems:
    def test_personal_derived_and_open_blocked(self):
        """Personal derived and open blocked."""
        data = {("data_items", 0, "item_name"): "姓名", ("data_items", 0, "item_personal"): "true",
                ("contains_personal_info",): missing, ("sharing_tier",): "open", ("deidentified",): False}
        errors = _errors_for(v.sharing_contains_personal_info, ("contains_personal_info",), data)
        assert data[("contains_personal_info",)] is True
        assert errors[("contains_personal_info",)] and errors[("sharing_tier",)]
        data[("deidentified",)] = "true"
        assert _errors_for(v.sharing_contains_personal_info, ("contains_personal_info",), data)[("contains_personal_info",)] == []

    def test_blank_rows_dropped(self):
        """Blank data-item rows of the form are dropped, errors included."""
        data = {("data_items", 0, "item_name"): "", ("data_items", 0, "item_personal"): "false",
                ("data_items", 1, "item_name"): "年度"}
        v.sharing_drop_empty_data_items(("__after",), data, {}, CTX)
        assert data == {("data_items", 1, "item_name"): "年度"}


class TestSlug:
    def test_pinyin(self):
        """Chinese titles give pinyin URL names; never empty, never too long."""
        assert naming.slug("人口基本信息") == "ren-kou-ji-ben-xin-xi"
        assert naming.slug("重庆市") == "chong-qing-shi"  # polyphonic 重 read in context
        assert naming.slug("", "101001/000001") == "res-101001-000001"
        assert naming.slug("！！") == "dataset"
        assert len(naming.slug("数据" * 100)) <= naming.MAX_LENGTH
