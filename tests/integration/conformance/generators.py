"""Render a neutral policy (cases.P) as an APIM <validate-jwt> policy file or as the
equivalent ValidateJWT* directives.

    to_xml(policy, ctx)         -> the text of a policy file
    to_directives(policy, ctx)  -> a list of directive lines (NotRepresentable when the
                                   policy uses something only a policy file can say)

ctx (Ctx) resolves references: key material (vjwt_tokens.Keys), the fake IdP's base URL,
and tokens for a literal token-value.  Layout of the XML is fixed (one element per line,
all attributes of <validate-jwt> on its first line) so that tests can find the line an
error must point at.
"""

import json
from xml.sax.saxutils import escape

from vjwt_tokens import b64std

CHILD_ORDER = ["openid-config", "issuer-signing-keys", "decryption-keys", "audiences",
               "issuers", "required-claims"]


class NotRepresentable(Exception):
    """The policy uses a feature that has no directive form."""


class Ctx:
    def __init__(self, keys=None, idp_base=None, token_fn=None):
        self.keys = keys
        self.idp_base = idp_base
        self.token_fn = token_fn

    def idp_url(self, name):
        if not self.idp_base:
            raise ValueError("no fake IdP for openid-config idp=%s" % name)
        return "%s/%s/.well-known/openid-configuration" % (self.idp_base, name)

    def token(self, spec):
        if isinstance(spec, str):
            return spec
        return self.token_fn(spec)

    def ne(self, ref):
        d = json.loads(getattr(self.keys, ref).export_public())
        return d["n"], d["e"]

    def secret(self, ref):
        return b64std(getattr(self.keys, ref))

    def named(self, v):
        """A named value: a string, or {"secret": REF} (the base64 of a Keys secret)."""
        return self.secret(v["secret"]) if isinstance(v, dict) else v

    def fill(self, s):
        """Placeholders in raw key material: NE_N = the modulus of Keys.rsa1, HS64_B64 =
        the base64 of Keys.hs64."""
        if s and "NE_N" in s and self.keys is not None:
            s = s.replace("NE_N", self.ne("rsa1")[0])
        if s and "HS64_B64" in s and self.keys is not None:
            s = s.replace("HS64_B64", self.secret("hs64"))
        return s


def _xa(v):
    # attribute values: whitespace other than a space would be normalised away by the XML
    # parser, so it goes in as character references
    return escape(str(v), {'"': "&quot;", "\n": "&#10;", "\t": "&#9;", "\r": "&#13;"})


def _xt(v):
    return escape(str(v))


def _xbool(v):
    return {True: "true", False: "false"}.get(v, v) if isinstance(v, bool) else str(v)


def _dbool(v):
    return {True: "On", False: "Off"}.get(v, v) if isinstance(v, bool) else str(v)


def dq(v):
    """One httpd configuration argument, quoted."""
    v = str(v)
    return '"%s"' % v.replace("\\", "\\\\").replace('"', '\\"')


def _sources(policy):
    s = policy["source"]
    if s is None:
        return []
    return list(s) if isinstance(s, list) else [s]


# ------------------------------------------------------------------------------------
# XML
# ------------------------------------------------------------------------------------
def _root_attrs(policy, ctx):
    a = []
    for kind, val in _sources(policy):
        name = {"header": "header-name", "query": "query-parameter-name",
                "token_value": "token-value"}[kind]
        if kind == "token_value":
            val = ctx.token(val)
        a.append((name, val))
    for field, name, conv in (
            ("status", "failed-validation-httpcode", str),
            ("message", "failed-validation-error-message", str),
            ("require_exp", "require-expiration-time", _xbool),
            ("scheme", "require-scheme", str),
            ("require_signed", "require-signed-tokens", _xbool),
            ("skew", "clock-skew", str),
            ("output_var", "output-token-variable-name", str),
            ("id", "id", str)):
        if policy[field] is not None:
            a.append((name, conv(policy[field])))
    return a


def _key_xml(k, ctx):
    kind = k["kind"]
    attrs, text = [], ""
    if k.get("id") is not None:
        attrs.append(("id", k["id"]))
    if kind == "secret":
        text = ctx.secret(k["ref"])
    elif kind == "rsa":
        n, e = ctx.ne(k["ref"])
        attrs += [("n", n), ("e", e)]
    elif kind == "cert":
        attrs.append(("certificate-id", k["ref"]))
    elif kind == "named":
        text = "{{%s}}" % k["ref"]
    elif kind == "raw":
        attrs += [(a, ctx.fill(v)) for a, v in k["attrs"].items()]
        text = ctx.fill(k.get("text") or "")
    else:
        raise ValueError("unknown key kind %r" % kind)
    at = "".join(' %s="%s"' % (a, _xa(v)) for a, v in attrs)
    if text:
        # named values stay literal: the module substitutes them before parsing
        body = text if kind == "named" else _xt(text)
        return "<key%s>%s</key>" % (at, body)
    return "<key%s/>" % at


def _list_xml(outer, inner, values):
    if not values:
        return ["<%s/>" % outer]
    return (["<%s>" % outer] + ["    <%s>%s</%s>" % (inner, _xt(v), inner) for v in values]
            + ["</%s>" % outer])


def _claim_xml(c):
    at = ""
    if c.get("name") is not None:
        at += ' name="%s"' % _xa(c["name"])
    if c.get("match") is not None:
        at += ' match="%s"' % _xa(c["match"])
    if c.get("separator") is not None:
        at += ' separator="%s"' % _xa(c["separator"])
    if not c["values"]:
        return ["<claim%s/>" % at]
    return (["<claim%s>" % at] + ["    <value>%s</value>" % _xt(v) for v in c["values"]]
            + ["</claim>"])


def _children(policy, ctx):
    out = {}
    if policy["openid"]:
        lines = []
        for o in policy["openid"]:
            url = ctx.idp_url(o["idp"]) if "idp" in o else o.get("url")
            lines.append("<openid-config%s/>" % ("" if url is None else ' url="%s"' % _xa(url)))
        out["openid-config"] = lines
    if policy["keys"] is not None:
        if not policy["keys"]:
            out["issuer-signing-keys"] = ["<issuer-signing-keys/>"]
        else:
            out["issuer-signing-keys"] = (["<issuer-signing-keys>"] +
                                          ["    " + _key_xml(k, ctx) for k in policy["keys"]] +
                                          ["</issuer-signing-keys>"])
    if policy.get("decryption_keys") is not None:
        out["decryption-keys"] = (["<decryption-keys>"] +
                                  ["    " + _key_xml(k, ctx) for k in policy["decryption_keys"]] +
                                  ["</decryption-keys>"])
    if policy["audiences"] is not None:
        out["audiences"] = _list_xml("audiences", "audience", policy["audiences"])
    if policy["issuers"] is not None:
        out["issuers"] = _list_xml("issuers", "issuer", policy["issuers"])
    if policy["claims"] is not None:
        if not policy["claims"]:
            out["required-claims"] = ["<required-claims/>"]
        else:
            lines = ["<required-claims>"]
            for c in policy["claims"]:
                lines += ["    " + l for l in _claim_xml(c)]
            out["required-claims"] = lines + ["</required-claims>"]
    return out


def validate_jwt_element(policy, ctx):
    """The <validate-jwt> element (list of lines, not indented)."""
    x = policy.get("xml") or {}
    root = x.get("root", "validate-jwt")
    attrs = "".join(' %s="%s"' % (n, _xa(v)) for n, v in _root_attrs(policy, ctx))
    if x.get("attrs"):
        attrs += " " + x["attrs"]
    kids = _children(policy, ctx)
    order = x.get("order") or CHILD_ORDER
    order = list(order) + [c for c in CHILD_ORDER if c not in order]
    body = []
    for name in order:
        body += kids.get(name, [])
    body += list(x.get("children") or [])
    if not body:
        return ["<%s%s/>" % (root, attrs)]
    return ["<%s%s>" % (root, attrs)] + ["    " + l for l in body] + ["</%s>" % root]


def to_xml(policy, ctx=None):
    """The policy file: a <validate-jwt> element, or an APIM <policies> document."""
    ctx = ctx or Ctx()
    x = policy.get("xml") or {}
    lines = []
    if x.get("prolog"):
        lines.append(x["prolog"])
    main = validate_jwt_element(policy, ctx)
    if x.get("wrap") == "policies":
        inbound = ["<base />"]
        for sib in x.get("siblings") or []:
            inbound += validate_jwt_element(sib, ctx)
        outbound = ["<base />"]
        if x.get("outside_inbound"):
            outbound += main
        else:
            inbound += main
        lines += ["<policies>", "    <inbound>"] + ["        " + l for l in inbound] + \
                 ["    </inbound>", "    <backend>", "        <base />", "    </backend>",
                  "    <outbound>"] + ["        " + l for l in outbound] + \
                 ["    </outbound>", "    <on-error>", "        <base />", "    </on-error>",
                  "</policies>"]
    else:
        lines += main
    nl = x.get("newline", "\n")
    return x.get("bom", "") + nl.join(lines) + nl


def line_of(text, needle):
    """1-based line number of the first line holding needle."""
    for i, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return i
    raise ValueError("%r not in the generated text" % needle)


# ------------------------------------------------------------------------------------
# directives
# ------------------------------------------------------------------------------------
def _decryption_key_directive(k, ctx):
    pre = "id=%s " % k["id"] if k.get("id") is not None else ""
    if k["kind"] == "secret":
        return "ValidateJWTDecryptionKey %s%s" % (pre, ctx.secret(k["ref"]))
    if k["kind"] == "cert":
        return "ValidateJWTDecryptionKey %scertificate-id=%s" % (pre, k["ref"])
    raise NotRepresentable("decryption key of kind %s" % k["kind"])


def _key_directive(k, ctx):
    kind = k["kind"]
    pre = "id=%s " % k["id"] if k.get("id") is not None else ""
    if kind == "secret":
        return "ValidateJWTIssuerSigningKey %s%s" % (pre, ctx.secret(k["ref"]))
    if kind == "rsa":
        n, e = ctx.ne(k["ref"])
        return "ValidateJWTIssuerSigningKey %sn=%s e=%s" % (pre, n, e)
    if kind == "cert":
        return "ValidateJWTIssuerSigningKey %scertificate-id=%s" % (pre, k["ref"])
    if kind == "named":
        raise NotRepresentable("{{%s}} named value" % k["ref"])
    if kind == "raw":
        if k.get("directive") is None:
            raise NotRepresentable("raw key without a directive form")
        return "ValidateJWTIssuerSigningKey %s%s" % (pre, ctx.fill(k["directive"]))
    raise ValueError("unknown key kind %r" % kind)


def to_directives(policy, ctx=None):
    """The ValidateJWT* directive lines equivalent to the policy (without the module-only
    extra_directives, which the caller appends in both modes)."""
    ctx = ctx or Ctx()
    x = policy.get("xml") or {}
    for knob in ("attrs", "children", "root", "prolog", "wrap", "siblings", "select"):
        if x.get(knob):
            raise NotRepresentable("XML-only knob %s" % knob)
    srcs = _sources(policy)
    if not srcs:
        raise NotRepresentable("no token source (directives default to Authorization)")
    d = []
    for kind, val in srcs:
        if kind == "header":
            d.append("ValidateJWTHeaderName %s" % dq(val))
        elif kind == "query":
            d.append("ValidateJWTQueryParameterName %s" % dq(val))
        else:
            d.append("ValidateJWTTokenValue %s" % dq(ctx.token(val)))
    for field, name, conv in (
            ("scheme", "ValidateJWTRequireScheme", str),
            ("status", "ValidateJWTFailedValidationHTTPCode", str),
            ("message", "ValidateJWTFailedValidationErrorMessage", str),
            ("require_exp", "ValidateJWTRequireExpirationTime", _dbool),
            ("require_signed", "ValidateJWTRequireSignedTokens", _dbool),
            ("skew", "ValidateJWTClockSkew", str),
            ("output_var", "ValidateJWTOutputTokenVariableName", str),
            ("id", "ValidateJWTId", str)):
        v = policy[field]
        if v is None:
            continue
        if field == "message" and v == "":
            # an empty message is "unset" (docs/conformance.md#policy-files); no directive needed
            continue
        d.append("%s %s" % (name, dq(conv(v))))
    groups = {}
    if policy["openid"]:
        groups["openid-config"] = []
        for o in policy["openid"]:
            url = ctx.idp_url(o["idp"]) if "idp" in o else o.get("url")
            if url is None:
                raise NotRepresentable("openid-config without url")
            groups["openid-config"].append("ValidateJWTOpenIDConfig %s" % url)
    if policy["keys"] is not None:
        if not policy["keys"]:
            raise NotRepresentable("empty <issuer-signing-keys>")
        groups["issuer-signing-keys"] = [_key_directive(k, ctx) for k in policy["keys"]]
    if policy.get("decryption_keys"):
        groups["decryption-keys"] = [_decryption_key_directive(k, ctx)
                                     for k in policy["decryption_keys"]]
    for field, el, name in (("audiences", "audiences", "ValidateJWTAudience"),
                            ("issuers", "issuers", "ValidateJWTIssuer")):
        v = policy[field]
        if v is None:
            continue
        if not v:
            raise NotRepresentable("empty <%s>" % el)
        if any("{{" in s for s in v):
            raise NotRepresentable("named value in <%s>" % el)
        groups[el] = ["%s %s" % (name, " ".join(dq(s) for s in v))]
    if policy["claims"] is not None:
        if not policy["claims"]:
            raise NotRepresentable("empty <required-claims>")
        lines = []
        for c in policy["claims"]:
            if c.get("name") is None:
                raise NotRepresentable("claim without name")
            a = [dq(c["name"])]
            if c.get("match") is not None:
                a.append("match=%s" % c["match"])
            if c.get("separator") is not None:
                a.append(dq("separator=%s" % c["separator"]))
            a += [dq(v) for v in c["values"]]
            lines.append("ValidateJWTRequiredClaim %s" % " ".join(a))
        groups["required-claims"] = lines
    order = list(x.get("order") or CHILD_ORDER)
    order += [c for c in CHILD_ORDER if c not in order]
    for el in order:
        d += groups.get(el, [])
    if policy.get("message") and "{{" in policy["message"]:
        raise NotRepresentable("named value in the message")
    return d


def representable(policy, ctx=None):
    try:
        to_directives(policy, ctx or Ctx())
        return True
    except NotRepresentable:
        return False
    except Exception:
        return True


# ------------------------------------------------------------------------------------
# server level
# ------------------------------------------------------------------------------------
def server_config(certificates, named_values, extra=()):
    lines = ["ValidateJWTCertificate %s %s" % (cid, path)
             for cid, path in sorted(certificates.items())]
    lines += ["ValidateJWTNamedValue %s %s" % (n, dq(v)) for n, v in sorted(named_values.items())]
    lines += list(extra)
    return "\n".join(lines) + "\n"
