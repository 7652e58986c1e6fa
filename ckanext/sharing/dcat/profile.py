"""The DCAT-AP 3 profile of ckanext-sharing, run after ckanext-dcat's ``euro_dcat_ap_3`` (SPEC §3b "DCAT").

ckanext-dcat builds the graph of a dataset from the dict ``package_show`` / ``package_search`` returned to
the caller. Those dicts are already masked for the caller by this extension (SPEC §3): a metadata-only
caller gets ``sharing_restricted: true`` resources whose ``url`` is the request page, and never sees a
not_shared dataset at all. This profile therefore makes no access decision of its own: it reads the
``sharing_tier`` field and the ``sharing_restricted`` flags of the dict and rewrites what
``euro_dcat_ap_3`` wrote into what the catalogue means:

* ``dct:accessRights``: the EU access-right concept of the tier (SPEC §1 table);
* distributions of restricted resources: ``dcat:accessURL`` = the dataset's request page, no
  ``dcat:downloadURL`` (and no other URL of the resource);
* ``dct:identifier`` = ``res_code``, ``dct:issued`` = ``publish_date``, ``dct:accrualPeriodicity`` = the EU
  frequency concept of ``update_cycle`` (REGULATION.md "DCAT-AP");
* the publisher carries the organization's 统一社会信用代码 (``uscc``) as an identifier;
* ``dct:rights`` holds ``share_condition`` (conditional) or ``share_basis`` (not_shared);
* every distribution has a licence: the dataset's, or ``ckanext.sharing.default_license_id``;
* values ``euro_dcat_ap_3`` writes as plain literals where DCAT-AP 3 wants a concept (format, media
  type, language, theme) are replaced by the EU / IANA concepts or dropped, so the output validates
  against the DCAT-AP 3.0.0 SHACL shapes.
"""
from __future__ import annotations

from typing import Any, Optional

from rdflib import BNode, Literal, URIRef
from rdflib.term import Node

import ckan.plugins.toolkit as tk
from ckan.model.license import LicenseRegister

from ckanext.dcat.profiles import ADMS, DCAT, DCT, FOAF, RDF, RDFS, SKOS, VCARD, XSD, RDFProfile
from ckanext.dcat.utils import catalog_uri, publisher_uri_organization_fallback, resource_uri

# The one place this package reaches into the access layer (dict-level helpers only, no decisions).
from ckanext.sharing import config, values
from ckanext.sharing.access import policy
from ckanext.sharing.access.masking import request_url

EU_AUTHORITY = "http://publications.europa.eu/resource/authority/"

# SPEC §1, column "DCAT dct:accessRights".
ACCESS_RIGHTS = {
    policy.OPEN: EU_AUTHORITY + "access-right/PUBLIC",
    policy.CONDITIONAL: EU_AUTHORITY + "access-right/RESTRICTED",
    policy.NOT_SHARED: EU_AUTHORITY + "access-right/NON_PUBLIC",
}

# dct:accessRights -> tier, for harvesting (parse_dataset).
TIERS = {uri: tier for tier, uri in ACCESS_RIGHTS.items()}

# update_cycle (SPEC §6) -> EU frequency vocabulary (REGULATION.md "DCAT-AP").
FREQUENCIES = {
    "实时": "CONT",
    "每日": "DAILY",
    "每周": "WEEKLY",
    "每月": "MONTHLY",
    "每季度": "QUARTERLY",
    "每半年": "BIANNUAL",
    "每年": "ANNUAL",
    "不定期": "IRREG",
}

# CKAN format names -> EU file-type concepts (dct:format must be a dct:MediaTypeOrExtent).
FILE_TYPES = {
    "CSV": "CSV", "TSV": "TSV", "JSON": "JSON", "GEOJSON": "GEOJSON", "JSON-LD": "JSON_LD", "JSONLD": "JSON_LD",
    "XML": "XML", "RDF": "RDF_XML", "TTL": "RDF_TURTLE", "XLS": "XLS", "XLSX": "XLSX", "ODS": "ODS",
    "PDF": "PDF", "DOC": "DOC", "DOCX": "DOCX", "TXT": "TXT", "HTML": "HTML", "ZIP": "ZIP", "SHP": "SHP",
    "KML": "KML", "PNG": "PNG", "JPEG": "JPEG", "JPG": "JPEG",
}

CATALOGUE_LANGUAGE = EU_AUTHORITY + "language/ZHO"
IANA_MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"
# Language tag of the catalogue's own texts (share_condition, share_basis, theme): Chinese.
TEXT_LANG = "zh"
# The sharing scope's line in dct:rights (a Chinese text, as the catalogue's own texts are).
SCOPE_PREFIX = "共享范围："


def tier_of(dataset_dict: dict[str, Any]) -> str:
    """The tier the masked dict carries (``sharing_tier``; CKAN's ``private`` when a dict has none)."""
    return policy.normalise_tier(dataset_dict.get("sharing_tier"), bool(dataset_dict.get("private")))


def frequency_uri(update_cycle: Optional[str]) -> Optional[str]:
    """The EU frequency concept for an ``update_cycle`` value, None for an unknown or empty one."""
    code = FREQUENCIES.get((update_cycle or "").strip())
    return EU_AUTHORITY + "frequency/" + code if code else None


def rights_text(dataset_dict: dict[str, Any]) -> Optional[str]:
    """What ``dct:rights`` states: the sharing condition of a conditional dataset (共享条件) and its sharing
    scope (共享范围, Regulation Art. 15) or the basis for not sharing (不予共享依据), SPEC §1."""
    tier = tier_of(dataset_dict)

    def text(key: str) -> str:  # the catalogue schema's field, or the extra of CKAN's own schema
        return str(values.field_or_extra(dataset_dict, key) or "").strip()

    if tier == policy.CONDITIONAL:
        condition, scope = text("share_condition"), text("share_scope")  # 共享范围, Regulation Art. 15
        return "\n".join(filter(None, (condition, scope and SCOPE_PREFIX + scope))) or None
    if tier == policy.NOT_SHARED:
        return text("share_basis") or None
    return None


class SharingDCATAPProfile(RDFProfile):
    """``ckan.rdf.profiles`` entry ``sharing_dcat_ap``: configure it after ``euro_dcat_ap_3``."""

    # --- datasets ------------------------------------------------------------------------------
    def graph_from_dataset(self, dataset_dict: dict[str, Any], dataset_ref: URIRef) -> None:
        """Rewrite the dataset's triples written by ``euro_dcat_ap_3`` with the catalogue's meaning."""
        tier = tier_of(dataset_dict)
        self._set_concept(dataset_ref, DCT.accessRights, ACCESS_RIGHTS[tier], DCT.RightsStatement)
        if dataset_dict.get("res_code"):
            self._replace(dataset_ref, DCT.identifier, Literal(dataset_dict["res_code"]))
        freq = frequency_uri(dataset_dict.get("update_cycle"))
        if freq:
            self._set_concept(dataset_ref, DCT.accrualPeriodicity, freq, DCT.Frequency)
        else:
            self.g.remove((dataset_ref, DCT.accrualPeriodicity, None))
        if dataset_dict.get("publish_date"):
            self._replace(dataset_ref, DCT.issued, Literal(dataset_dict["publish_date"], datatype=XSD.date))
        self._themes_as_keywords(dataset_dict, dataset_ref)
        self._publisher(dataset_dict, dataset_ref)
        self._typed_objects(dataset_ref, DCAT.contactPoint, VCARD.Kind)
        self._typed_objects(dataset_ref, DCAT.landingPage, FOAF.Document)
        rights = rights_text(dataset_dict)
        if rights:
            self._set_statement(dataset_ref, DCT.rights, rights)
        licence = self._licence(dataset_dict)
        for resource_dict in dataset_dict.get("resources") or []:
            self._distribution(dataset_dict, resource_dict, licence, rights)
        self._byte_sizes_as_decimal()

    def _distribution(self, dataset_dict: dict[str, Any], resource_dict: dict[str, Any],
                      licence: Node, rights: Optional[str]) -> None:
        """One distribution: the request page instead of any URL of a restricted resource (SPEC §3 DCAT
        row), a download URL for files served by this portal, licence, rights, format concepts."""
        distribution = URIRef(resource_uri(resource_dict))
        if resource_dict.get("sharing_restricted"):
            for predicate in (DCAT.downloadURL, DCAT.accessURL, DCAT.accessService, FOAF.page):
                self.g.remove((distribution, predicate, None))
            self.g.add((distribution, DCAT.accessURL, URIRef(request_url(dataset_dict["id"]))))
        else:
            url = (resource_dict.get("url") or "").strip()
            if url and resource_dict.get("url_type") in ("upload", "datastore"):
                self.g.set((distribution, DCAT.downloadURL, URIRef(url)))
            if (distribution, DCAT.accessURL, None) not in self.g:
                landing = f"{catalog_uri().rstrip('/')}/dataset/{dataset_dict['name']}"
                self.g.add((distribution, DCAT.accessURL, URIRef(url or landing)))
        self.g.remove((distribution, DCT.license, None))
        self.g.add((distribution, DCT.license, licence))
        if rights:
            self._set_statement(distribution, DCT.rights, rights)
        self._format_concepts(resource_dict, distribution)

    def _byte_sizes_as_decimal(self) -> None:
        """``dcat:byteSize`` typed ``xsd:decimal``: the DCAT-AP 3.0.0 shapes this output is validated
        against (SPEC §3b) require that datatype. ``euro_dcat_ap_3`` retypes every size of the whole graph
        as ``nonNegativeInteger`` for each dataset it adds, so this runs over the whole graph too."""
        for distribution, size in list(self.g.subject_objects(DCAT.byteSize)):
            if isinstance(size, Literal) and size.datatype == XSD.decimal:
                continue
            self.g.remove((distribution, DCAT.byteSize, size))
            try:
                self.g.add((distribution, DCAT.byteSize, Literal(int(size), datatype=XSD.decimal)))
            except (TypeError, ValueError):
                pass  # not a number: dropped rather than published as an invalid size

    def _format_concepts(self, resource_dict: dict[str, Any], distribution: URIRef) -> None:
        """``dct:format`` as an EU file type and ``dcat:mediaType`` as an IANA media type: DCAT-AP 3 ranges
        are classes, so a plain literal (``"CSV"``) would violate them and is dropped instead."""
        self.g.remove((distribution, DCT["format"], None))
        code = FILE_TYPES.get((resource_dict.get("format") or "").strip().upper())
        if code:
            self._set_concept(distribution, DCT["format"], EU_AUTHORITY + "file-type/" + code,
                              DCT.MediaTypeOrExtent)
        self.g.remove((distribution, DCAT.mediaType, None))
        mimetype = (resource_dict.get("mimetype") or "").strip()
        if mimetype.count("/") == 1 and " " not in mimetype:
            self._set_concept(distribution, DCAT.mediaType, IANA_MEDIA_TYPES + mimetype, DCT.MediaType)

    def _themes_as_keywords(self, dataset_dict: dict[str, Any], dataset_ref: URIRef) -> None:
        """The catalogue's ``theme`` is a Chinese word, not a concept IRI: a keyword, not ``dcat:theme``."""
        for theme in list(self.g.objects(dataset_ref, DCAT.theme)):
            if not str(theme).startswith(("http://", "https://")):
                self.g.remove((dataset_ref, DCAT.theme, theme))
        if dataset_dict.get("theme"):
            self.g.add((dataset_ref, DCAT.keyword, Literal(dataset_dict["theme"], lang=TEXT_LANG)))

    def _publisher(self, dataset_dict: dict[str, Any], dataset_ref: URIRef) -> None:
        """The owner organization as ``dct:publisher``, identified by its USCC (SPEC §3b, §6)."""
        org = self._organization(dataset_dict)
        if not org:
            return
        publisher = self.g.value(dataset_ref, DCT.publisher)
        if publisher is None:
            publisher = URIRef(publisher_uri_organization_fallback(dataset_dict))
            self.g.add((dataset_ref, DCT.publisher, publisher))
        self._agent(publisher, org)

    def _agent(self, agent: Node, org: dict[str, Any]) -> None:
        """A foaf:Agent for an organization dict: its title as name, its USCC as dct:identifier and as one
        adms:Identifier (统一社会信用代码, GB 32100). Datasets of one organization share the agent node, so
        a second dataset replaces rather than adds."""
        self.g.add((agent, RDF.type, FOAF.Agent))
        self._replace(agent, FOAF.name, Literal(org.get("title") or org.get("name") or ""))
        for old in list(self.g.objects(agent, ADMS.identifier)):
            self.g.remove((old, None, None))
        self.g.remove((agent, ADMS.identifier, None))
        self.g.remove((agent, DCT.identifier, None))
        uscc = (org.get("uscc") or "").strip()
        if not uscc:
            return
        self.g.add((agent, DCT.identifier, Literal(uscc)))
        identifier = BNode()
        self.g.add((agent, ADMS.identifier, identifier))
        self.g.add((identifier, RDF.type, ADMS.Identifier))
        self.g.add((identifier, SKOS.notation, Literal(uscc)))
        self.g.add((identifier, DCT.title, Literal("统一社会信用代码", lang=TEXT_LANG)))

    def _organization(self, dataset_dict: dict[str, Any]) -> Optional[dict[str, Any]]:
        """The owner organization's dict with its custom fields (``uscc``), as it is now.

        ``euro_dcat_ap_3`` keeps organization dicts in a process-wide cache (``_org_cache``) that no
        other process can invalidate (SPEC §8); the entry it just used is read here and dropped, so
        every dataset's publisher is looked up afresh."""
        org_id = (dataset_dict.get("organization") or {}).get("id") or dataset_dict.get("owner_org")
        if not org_id:
            return None
        org = self._org_cache.pop(org_id, None)
        if org is None:
            try:
                org = tk.get_action("organization_show")(
                    {"ignore_auth": True}, {"id": org_id, "include_datasets": False, "include_users": False})
            except tk.ObjectNotFound:
                return None
        return org

    def _licence(self, dataset_dict: dict[str, Any]) -> Node:
        """The licence node of a dataset: its licence URL, or a typed node naming the licence when the
        register has no URL for it; ``ckanext.sharing.default_license_id`` when the dataset has none."""
        license_id = dataset_dict.get("license_id") or config.default_license_id() or "notspecified"
        register = LicenseRegister()
        licence = register.get(license_id)
        url = dataset_dict.get("license_url") if dataset_dict.get("license_id") else None
        url = url or (licence.url if licence else None)
        if url:
            node: Node = URIRef(url)
        else:
            node = BNode()
            title = dataset_dict.get("license_title") if dataset_dict.get("license_id") else None
            self.g.add((node, RDFS.label, Literal(title or (licence.title if licence else license_id))))
        self.g.add((node, RDF.type, DCT.LicenseDocument))
        return node

    # --- harvesting (RDF in) -------------------------------------------------------------------
    def parse_dataset(self, dataset_dict: dict[str, Any], dataset_ref: URIRef) -> dict[str, Any]:
        """Read back what :meth:`graph_from_dataset` states, so another portal running ``sharing`` that
        harvests this catalogue with ckanext-dcat's ``dcat_rdf_harvester`` keeps the tier (SPEC §3b
        "Harvest"): ``sharing_tier`` from ``dct:accessRights``, and from ``dct:rights`` the
        ``share_condition`` and ``share_scope`` (conditional) or ``share_basis`` (not_shared) the tier needs.
        A dataset without one of our access-right concepts is left to the other profiles."""
        tier = TIERS.get(str(self.g.value(dataset_ref, DCT.accessRights) or ""))
        if tier is None:
            return dataset_dict
        dataset_dict["sharing_tier"] = tier
        rights = self.g.value(dataset_ref, DCT.rights)
        text = self._object_value(dataset_ref, DCT.rights) if rights is not None else ""
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if tier == policy.CONDITIONAL:
            scope = [line[len(SCOPE_PREFIX):] for line in lines if line.startswith(SCOPE_PREFIX)]
            condition = [line for line in lines if not line.startswith(SCOPE_PREFIX)]
            dataset_dict["share_condition"] = "\n".join(condition)
            if scope:
                dataset_dict["share_scope"] = scope[0]
        elif tier == policy.NOT_SHARED:
            dataset_dict["share_basis"] = "\n".join(lines)
        return dataset_dict

    # --- catalogue -----------------------------------------------------------------------------
    def graph_from_catalog(self, catalog_dict: Optional[dict[str, Any]], catalog_ref: URIRef) -> None:
        """The catalogue's mandatory DCAT-AP 3 properties: a publisher, a description, a language concept."""
        for lang in list(self.g.objects(catalog_ref, DCT.language)):
            if isinstance(lang, Literal):
                self.g.remove((catalog_ref, DCT.language, lang))
        self._set_concept(catalog_ref, DCT.language, CATALOGUE_LANGUAGE, DCT.LinguisticSystem)
        if (catalog_ref, DCT.description, None) not in self.g:
            self.g.add((catalog_ref, DCT.description, Literal(tk.config.get("ckan.site_title") or "")))
        if (catalog_ref, DCT.publisher, None) not in self.g:
            self._catalogue_publisher(catalog_ref)
        self._typed_objects(catalog_ref, FOAF.homepage, FOAF.Document)

    def _catalogue_publisher(self, catalog_ref: URIRef) -> None:
        """The portal itself as the catalogue's publisher, named after the site (``ckan.site_title``)."""
        publisher = URIRef(str(catalog_ref).rstrip("/") + "/#publisher")
        self.g.add((catalog_ref, DCT.publisher, publisher))
        self._agent(publisher, {"title": tk.config.get("ckan.site_title")})

    # --- helpers -------------------------------------------------------------------------------
    def _replace(self, subject: Node, predicate: URIRef, value: Node) -> None:
        """Exactly one value for a property ``euro_dcat_ap_3`` may already have set."""
        self.g.remove((subject, predicate, None))
        self.g.add((subject, predicate, value))

    def _set_concept(self, subject: Node, predicate: URIRef, uri: str, cls: URIRef) -> None:
        """One concept IRI as the value, typed with the class DCAT-AP 3 gives the property's range."""
        self._replace(subject, predicate, URIRef(uri))
        self.g.add((URIRef(uri), RDF.type, cls))

    def _typed_objects(self, subject: Node, predicate: URIRef, cls: URIRef) -> None:
        """State the class DCAT-AP 3 requires of the values (``vcard:Organization`` is a ``vcard:Kind``,
        a home page a ``foaf:Document``): the shapes check classes without the ontologies' inference."""
        for value in self.g.objects(subject, predicate):
            self.g.add((value, RDF.type, cls))

    def _set_statement(self, subject: Node, predicate: URIRef, text: str) -> None:
        """One dct:RightsStatement node labelled with ``text`` (in Chinese)."""
        statement = BNode()
        self._replace(subject, predicate, statement)
        self.g.add((statement, RDF.type, DCT.RightsStatement))
        self.g.add((statement, RDFS.label, Literal(text, lang=TEXT_LANG)))
