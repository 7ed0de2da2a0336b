// Registry client, content store and layer unpacking: see README "Images".
