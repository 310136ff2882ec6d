-- wrk script: POST one GraphQL query (posts with their relations, via DataLoaders).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"query": "{ posts(first: 20) { edges { node { slug title author { username } category { name parent { name } } tags { slug } } } } }"}'
