"""gunicorn's access log without secrets: `--logger-class config.access_log.AccessLogger`.

gunicorn's `%(u)s` is the Basic user name, which is the API key here: it is always "-", and
so are the Authorization and Cookie headers, should a format name them.
The request line, path and referrer have the secrets of requesters' private ticket links
hidden (support.logs.redact), and so has every line of gunicorn's error log. Whatever
--access-logformat says, no key or link is written.
"""

from gunicorn.glogging import Logger

from support.logs import RedactSecrets, redact


class AccessLogger(Logger):
    def setup(self, cfg):
        super().setup(cfg)
        # gunicorn's error log writes paths too (each request's at debug level, and the
        # one of a request whose handling failed).
        if not any(isinstance(f, RedactSecrets) for f in self.error_log.filters):
            self.error_log.addFilter(RedactSecrets())

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["u"] = "-"
        for header in ("{authorization}i", "{cookie}i", "{proxy-authorization}i"):
            if header in atoms:
                atoms[header] = "-"
        for name in ("r", "U", "f"):
            if isinstance(atoms.get(name), str):
                atoms[name] = redact(atoms[name])
        return atoms
