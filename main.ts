/**
 * Service entry point: `deno task start`.
 * @module
 */
if (import.meta.main) {
  const port = Number(Deno.env.get("PORT") ?? 8000);
  Deno.serve({ port }, (req) => {
    const url = new URL(req.url);
    if (url.pathname === "/healthz") return Response.json({ status: "ok" });
    return Response.json({ error: { code: "not_found", message: `No route ${url.pathname}` } }, {
      status: 404,
    });
  });
}
